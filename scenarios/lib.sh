# Helpers for the scenarios' setup.sh scripts (POSIX sh, sourced, not run):
# random numbers, words and text, so that every run's inputs have their own
# names, counts and sizes, as two users' (or two CI jobs') inputs do.

# A word list for generated names: project, module, table and file names.
WORDS='alpha amber apple atlas basil birch cedar cobalt comet coral delta ember
falcon fern flint gamma garnet harbor hazel indigo iris jade juniper kappa kelp
lemon lilac lotus maple marble meadow mint nectar nova oak olive onyx opal
orchid pebble pine plum quartz raven river ruby sage slate spruce tango thistle
topaz tulip umber velvet violet walnut willow yarrow zephyr zinc'

# rand LO HI: a random integer in [LO, HI], from /dev/urandom.
rand() {
    n=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
    echo $(($1 + n % ($2 - $1 + 1)))
}

# word: a random word of the list.
word() {
    # shellcheck disable=SC2086
    set -- $WORDS
    shift "$(rand 0 $(($# - 1)))"
    echo "$1"
}

# name: a random word, sometimes with a number, as people name things.
name() {
    case $(rand 0 2) in
    0) word ;;
    1) echo "$(word)$(rand 1 99)" ;;
    *) echo "$(word)_$(word)" ;;
    esac
}

# text FILE BYTES: write about BYTES bytes of lines of random words to FILE.
text() {
    awk -v n="$2" -v seed="$(rand 1 1000000)" -v words="$WORDS" 'BEGIN {
        srand(seed); c = split(words, w, /[ \n]+/); size = 0; line = ""
        while (size < n) {
            t = w[int(rand() * c) + 1]
            if (length(line) + length(t) > 70) { print line; size += length(line) + 1; line = "" }
            line = line (line == "" ? "" : " ") t
        }
        if (line != "") print line
    }' > "$1"
}
