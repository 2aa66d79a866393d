# The crate's name and the size of its code differ per run, as users'
# projects do.
set -eu
. "$SCENARIO/../lib.sh"
echo "$(word)-$(word)$(rand 0 9)" > crate
rand 2 12 > functions
