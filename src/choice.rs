//! Named choices: the settings that take one of a few named values (a format,
//! a tokenizer, a seccomp action) say their names and what each means once,
//! here in the library, so that any front end (the command line's flags, help,
//! man pages and completions; a config file; an HTTP API) lists and parses them
//! the same way. This module parses nothing but names.

/// A setting with a fixed set of named values.
pub trait Choice: Copy + Sized + 'static {
    /// Every value, in the order they are listed.
    const ALL: &'static [Self];

    /// The value's name, as users type it.
    fn name(self) -> &'static str;

    /// What the value means, in a line.
    fn help(self) -> &'static str;

    /// The value named `name`, if there is one.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }
}

/// Implements [`Choice`] for an enum from one table of `Variant => "name", "help"`.
#[macro_export]
macro_rules! choices {
    ($ty:ty { $($variant:path => $name:literal, $help:literal;)+ }) => {
        impl $crate::choice::Choice for $ty {
            const ALL: &'static [Self] = &[$($variant),+];
            fn name(self) -> &'static str {
                match self { $($variant => $name),+ }
            }
            fn help(self) -> &'static str {
                match self { $($variant => $help),+ }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::Choice;

    /// Every choice's names are distinct and parse back to the value.
    fn round_trips<T: Choice + PartialEq + std::fmt::Debug>() {
        for &value in T::ALL {
            assert_eq!(T::from_name(value.name()), Some(value));
            assert!(!value.help().is_empty(), "{value:?} has no help");
        }
        assert_eq!(T::from_name("no-such-value"), None);
    }

    #[test]
    fn every_choice_round_trips_by_name() {
        round_trips::<crate::vectorize::Tokenizer>();
        round_trips::<crate::seccomp::ProfileFormat>();
        round_trips::<crate::seccomp::Action>();
        round_trips::<crate::seccomp::Arch>();
        round_trips::<crate::eval::items::Weight>();
        round_trips::<crate::eval::items::Unseen>();
        round_trips::<crate::eval::Method>();
        round_trips::<crate::eval::Items>();
        round_trips::<crate::parse::Format>();
    }
}
