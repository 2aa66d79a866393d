// SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only
//
// honk's system-call capture in the kernel (see src/capture/mod.rs).
//
// The raw tracepoints sys_enter (registers, id) and sys_exit (registers,
// result) report every system call of the processes being watched (raw
// ones: the classic raw_syscalls tracepoints cost the watched process about
// twice as much per call); the arguments are x86_64's registers. The raw
// tracepoints sched_process_exit (a process ends) and signal_deliver (a
// signal it receives; struct kernel_siginfo's first fields are ABI) run in
// the task they are about, so they read nothing of the kernel's structures.
// sched_process_fork adds a watched process's children to the watched set
// and remembers every child's parent: as a raw tracepoint, reading the
// child's pid at the offset in struct task_struct user space found in the
// kernel's BTF; else as the classic tracepoint, whose record layout is ABI.
// Detaching a classic tracepoint waits for RCU grace periods (about 75 ms
// here); detaching a raw one does not.
//
// No CO-RE and no vmlinux.h: nothing here reads a kernel structure but the
// saved registers, whose x86_64 layout is fixed (uapi asm/ptrace.h), and
// that one pid.
//
// One record per call, written when the call ends: its number, its arguments
// (the saved argument registers, which a call does not change), its result,
// and what its arguments point to (paths, socket addresses, a few small
// structs), read as user space's SPECS table says for each call number; by
// then the call itself has faulted those pages in. Three kinds of call are
// written in two records, a start and an end: execve and execveat, whose
// argv is read at sys_enter (the memory is gone once it succeeds); exit and
// exit_group, which never end; and rt_sigreturn, whose end has lost its
// number. A child's end of clone, fork or vfork is not written (strace
// prints the parent's). When the ring buffer is full the record is dropped
// and LOST counts it: user space reports the count.
//
// Per call, what costs is what every record carries: the time, the task's
// parent and name, and whether it is watched. The last three are kept per
// CPU for the last task seen (SEEN) and looked up again only when another
// task runs there or GEN moves (a fork, exec, exit or rename anywhere).
//
// Build: src/capture/ebpf/build.sh (clang -O2 -g -target bpf).
//
// bench/ebpf_floor.sh builds two variants of it, to measure what any
// capture costs at least: HONK_BENCH_EMPTY (both call programs return at
// once) and HONK_BENCH_SMALLEST (sys_exit writes a header alone, of a kind
// user space skips). The committed object is built with neither.

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define STR_SLOTS 4
#define STR_LEN 256
#define ARGV_SLOTS 16
#define SOCK_LEN 128
#define BLOB_LEN 64

// Who is watched (CONFIG.mode).
#define MODE_TREE 0   // the processes in TRACKED and their descendants
#define MODE_COMM 1   // every process whose name is CONFIG.comm
#define MODE_CGROUP 2 // every process in cgroup CONFIG.cgroup or below it

// Record kinds: the first byte of every record.
#define KIND_ENTER 1
#define KIND_ENTER_EXEC 3
#define KIND_EXIT 4
#define KIND_PROCESS_END 5
#define KIND_SIGNAL 6
#define KIND_CALL 7       // a whole call: start and end
#define KIND_CALL_PATHS 8 // a whole call, with what its arguments point to

struct config {
    __u32 mode;
    __u32 level; // MODE_CGROUP: the cgroup's depth below the hierarchy's root
    __u64 cgroup;
    char comm[16];
    __u32 pid_offset; // where pid is in struct task_struct (from the kernel's BTF), or 0
    __u32 pad;
};

// What to read for one call number; user space fills it for the calls that
// need more than their registers. Arguments are counted from 1, so that the
// zeroes of an entry user space did not fill mean "nothing to read".
struct spec {
    __u8 strings;     // bit i: argument i (from 0) is a string
    __s8 argv;        // argument that is an argv array (from 1), or 0
    __s8 sock;        // argument that is a struct sockaddr * (from 1), or 0
    __s8 sock_len;    // argument that is its length (from 1), minus the argument that points to it, or 0
    __s8 blob;        // argument that points to a small struct (from 1), or 0
    __u8 blob_len;    // how many bytes of it
    __s8 blob2;       // a second one (from 1), or 0: read into the blob's second half
    __u8 blob2_len;   // how many bytes of it (at most BLOB_LEN / 2)
};

struct header {
    __u8 kind;
    __u8 pad[3];
    __u32 tgid;
    __u32 tid;
    __u32 ppid;
    __u64 time;
};

struct enter {
    struct header h;
    __s64 id;
    __u64 args[6];
    char comm[16];
};

// A whole call.
struct call {
    struct enter e;
    __s64 ret;
};

// Records with strings are built in a per-CPU scratch buffer and copied
// into the ring buffer up to their last byte used: strings come last.
struct call_paths {
    struct call c;
    __s16 len[STR_SLOTS];
    __s16 sock_len;
    __s16 blob_len;
    __s16 blob2_len;
    __u8 pad[2];
    __u8 sock[SOCK_LEN];
    __u8 blob[BLOB_LEN];
    char str[STR_SLOTS][STR_LEN];
};

struct enter_exec {
    struct enter e;
    __s16 len;
    __s16 argc; // argv strings read; ARGV_SLOTS + 1 when there are more
    __s16 argv_len[ARGV_SLOTS];
    __u8 pad[4];
    char path[STR_LEN];
    char argv[ARGV_SLOTS][STR_LEN];
};

struct exit {
    struct header h;
    __s64 id;
    __s64 ret;
};

struct signal {
    struct header h;
    __s32 sig;
    __s32 code;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct config);
} CONFIG SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1024);
    __type(key, __u32);
    __type(value, struct spec);
} SPECS SEC(".maps");

// Watched processes (MODE_TREE), by tgid; the value is unused.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, __u32);
    __type(value, __u32);
} TRACKED SEC(".maps");

// Threads whose next children are watched (honk's own thread starting the command).
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u32);
} SPAWNERS SEC(".maps");

// Every new task's parent process (tgid), by the task's id; a task's entry
// goes when it ends.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, __u32);
    __type(value, __u32);
} PARENTS SEC(".maps");

// Moves at every fork, exec, process or thread end and name change on the
// machine: what SEEN holds is true while it has not moved.
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} GEN SEC(".maps");

// Per CPU, the last task a call was seen from: whether it is watched, its
// parent and its name, so that a task making call after call looks them up
// once (two hash lookups and a copy of its name, about a fifth of what a
// record costs), not at every call.
struct seen {
    __u64 id;      // bpf_get_current_pid_tgid() of the task
    __u64 gen;     // GEN when this was filled
    __u32 ppid;
    __u32 watched; // MODE_TREE only: the other modes look at every call
    __u32 records; // records this CPU wrote (wake_flags)
    __u32 pad;
    char comm[16];
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct seen);
} SEEN SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 16 << 20);
} EVENTS SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct call_paths);
} PATHS_SCRATCH SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct enter_exec);
} EXEC_SCRATCH SEC(".maps");

// Records dropped because EVENTS was full.
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} LOST SEC(".maps");

// What the raw tracepoints sys_enter and sys_exit hand over: the task's
// saved registers and the call's number (sys_enter) or result (sys_exit).
struct raw_ctx {
    __u64 regs;
    __s64 second;
};

// x86_64's struct pt_regs, as user space's <asm/ptrace.h> lays it out.
struct x86_regs {
    __u64 r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
};

// A call's number and arguments, read from the registers.
struct sys_enter_ctx {
    __s64 id;
    __u64 args[6];
};

struct fork_ctx_6 {
    __u64 common;
    __u32 parent_comm;
    __s32 parent_pid;
    __u32 child_comm;
    __s32 child_pid;
};

struct fork_ctx_old {
    __u64 common;
    char parent_comm[16];
    __s32 parent_pid;
    char child_comm[16];
    __s32 child_pid;
};

// What raw tracepoints hand over: their prototype's arguments.
struct raw_args {
    __u64 args[3];
};

// Waking the reader for every record costs the watched process more than the
// record itself: wake it only once a batch is waiting (user space also looks
// every few milliseconds by itself).
#define WAKE_AFTER (256 << 10)

// Each CPU looks at how much is waiting once every 256 of its records (the
// look costs a tenth of a record), and wakes the reader while it is past
// the mark.
static __always_inline __u64 wake_flags(struct seen *me)
{
    if ((++me->records & 255) != 0)
        return BPF_RB_NO_WAKEUP;
    __u64 avail = bpf_ringbuf_query(&EVENTS, BPF_RB_AVAIL_DATA);
    return avail >= WAKE_AFTER ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void moved(void)
{
    __u32 zero = 0;
    __u64 *gen = bpf_map_lookup_elem(&GEN, &zero);
    if (gen)
        __sync_fetch_and_add(gen, 1);
}

static __always_inline void lost(void)
{
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&LOST, &zero);
    if (n)
        *n += 1;
}

// Whether the current task is watched, in MODE_CGROUP and MODE_COMM (a task
// can move to another cgroup, or be renamed through /proc, unseen: these are
// looked at at every call).
static __always_inline int watched_now(struct config *c)
{
    // The task's cgroup, or its ancestor at the watched cgroup's depth: the
    // cgroup itself or one below it (a container's own sub-cgroups).
    if (c->mode == MODE_CGROUP)
        return bpf_get_current_ancestor_cgroup_id(c->level) == c->cgroup;
    if (c->mode == MODE_COMM) {
        char comm[16];
        bpf_get_current_comm(comm, sizeof(comm));
#pragma unroll
        for (int i = 0; i < 16; i++) {
            if (comm[i] != c->comm[i])
                return 0;
            if (comm[i] == 0)
                break;
        }
        return 1;
    }
    return 0;
}

// The current task (`id`, from bpf_get_current_pid_tgid()) as SEEN has it,
// filled again when it held another task or GEN has moved since; null when
// it is not watched. A task's parent, name and (in MODE_TREE) whether it is
// watched change only at a fork, an exec, a task's end or a name change,
// which all move GEN, with one exception: a name written through
// /proc/PID/comm by another process shows from GEN's next move.
static __always_inline struct seen *current_task(__u64 id)
{
    __u32 zero = 0;
    struct seen *me = bpf_map_lookup_elem(&SEEN, &zero);
    __u64 *gen = bpf_map_lookup_elem(&GEN, &zero);
    struct config *c = bpf_map_lookup_elem(&CONFIG, &zero);
    if (!me || !gen || !c)
        return 0;
    // Read before the maps: a fork that changes them moves GEN after.
    __u64 g = *gen;
    if (me->id != id || me->gen != g) {
        __u32 tgid = id >> 32;
        __u32 *parent = bpf_map_lookup_elem(&PARENTS, &tgid);
        me->id = id;
        me->gen = g;
        me->ppid = parent ? *parent : 0;
        me->watched = c->mode == MODE_TREE && bpf_map_lookup_elem(&TRACKED, &tgid) != 0;
        bpf_get_current_comm(me->comm, sizeof(me->comm));
    }
    if (c->mode == MODE_TREE)
        return me->watched ? me : 0;
    return watched_now(c) ? me : 0;
}

static __always_inline void fill_header(struct header *h, __u8 kind, __u64 id, struct seen *me)
{
    h->kind = kind;
    h->pad[0] = h->pad[1] = h->pad[2] = 0;
    h->tgid = id >> 32;
    h->tid = (__u32)id;
    h->ppid = me->ppid;
    h->time = bpf_ktime_get_ns();
}

static __always_inline void fill_enter(struct enter *e, __u8 kind, __u64 id, struct sys_enter_ctx *ctx, struct seen *me)
{
    fill_header(&e->h, kind, id, me);
    e->id = ctx->id;
#pragma unroll
    for (int i = 0; i < 6; i++)
        e->args[i] = ctx->args[i];
    __builtin_memcpy(e->comm, me->comm, sizeof(e->comm));
}

static __always_inline void enter_exec(struct sys_enter_ctx *ctx, __u64 id, struct spec *s, struct seen *me)
{
    __u32 zero = 0;
    struct enter_exec *e = bpf_map_lookup_elem(&EXEC_SCRATCH, &zero);
    if (!e)
        return;
    fill_enter(&e->e, KIND_ENTER_EXEC, id, ctx, me);
    // The path is the first string argument.
    const char *path = 0;
#pragma unroll
    for (int i = 5; i >= 0; i--)
        if (s->strings & (1 << i))
            path = (const char *)e->e.args[i];
    e->len = path ? bpf_probe_read_user_str(e->path, STR_LEN, path) : -1;
    const char *const *argv = 0;
#pragma unroll
    for (int i = 0; i < 6; i++)
        if (s->argv == i + 1)
            argv = (const char *const *)e->e.args[i];
    e->argc = 0;
    for (int i = 0; i < ARGV_SLOTS; i++) {
        const char *arg = 0;
        e->argv_len[i] = 0;
        if (!argv || bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) < 0 || !arg) {
            argv = 0;
            continue;
        }
        e->argv_len[i] = bpf_probe_read_user_str(e->argv[i], STR_LEN, arg);
        e->argc = i + 1;
    }
    if (argv && e->argc == ARGV_SLOTS) {
        const char *more = 0;
        if (bpf_probe_read_user(&more, sizeof(more), &argv[ARGV_SLOTS]) == 0 && more)
            e->argc = ARGV_SLOTS + 1;
    }
    __u64 used = e->argc > ARGV_SLOTS ? ARGV_SLOTS : e->argc;
    __u64 size = __builtin_offsetof(struct enter_exec, argv) + used * STR_LEN;
    if (size > sizeof(*e))
        size = sizeof(*e);
    if (bpf_ringbuf_output(&EVENTS, e, size, wake_flags(me)) < 0)
        lost();
}

// Reads up to `len` (at most `max`) bytes of what argument `arg` (from 1; 0:
// none) points to into `dest`: how many, or -1.
static __always_inline __s16 read_struct(struct sys_enter_ctx *ctx, __s8 arg, __u8 len, __u8 *dest, __u32 max)
{
    if (arg <= 0 || arg > 6)
        return -1;
    __u64 ptr = 0;
#pragma unroll
    for (int i = 0; i < 6; i++)
        if (arg == i + 1)
            ptr = ctx->args[i];
    __u32 n = len;
    if (n > max)
        n = max;
    if (ptr && n > 0 && bpf_probe_read_user(dest, n, (const void *)ptr) == 0)
        return n;
    return -1;
}

static __always_inline void call_paths(struct sys_enter_ctx *ctx, __s64 ret, __u64 id, struct spec *s, struct seen *me)
{
    __u32 zero = 0;
    struct call_paths *e = bpf_map_lookup_elem(&PATHS_SCRATCH, &zero);
    if (!e)
        return;
    fill_enter(&e->c.e, KIND_CALL_PATHS, id, ctx, me);
    e->c.ret = ret;
    int slot = 0;
#pragma unroll
    for (int i = 0; i < 6; i++) {
        if (slot < STR_SLOTS && (s->strings & (1 << i))) {
            e->len[slot] = bpf_probe_read_user_str(e->str[slot], STR_LEN, (const void *)ctx->args[i]);
            slot++;
        }
    }
#pragma unroll
    for (int i = 0; i < STR_SLOTS; i++)
        if (i >= slot)
            e->len[i] = -1;
    e->sock_len = -1;
    if (s->sock > 0 && s->sock <= 6 && s->sock_len != 0 && s->sock_len >= -6 && s->sock_len <= 6) {
        __u64 ptr = 0, len = 0;
#pragma unroll
        for (int i = 0; i < 6; i++) {
            if (s->sock == i + 1)
                ptr = ctx->args[i];
            if (s->sock_len == i + 1)
                len = ctx->args[i];
            // A length the call wrote back (accept's, getsockname's).
            if (s->sock_len == -(i + 1)) {
                __u32 written = 0;
                if (ctx->args[i] && bpf_probe_read_user(&written, sizeof(written), (const void *)ctx->args[i]) == 0)
                    len = written;
            }
        }
        if (len > SOCK_LEN)
            len = SOCK_LEN;
        if (ptr && len > 0 && bpf_probe_read_user(e->sock, len, (const void *)ptr) == 0)
            e->sock_len = len;
    }
    e->blob_len = read_struct(ctx, s->blob, s->blob_len, e->blob, BLOB_LEN);
    e->blob2_len = read_struct(ctx, s->blob2, s->blob2_len, e->blob + BLOB_LEN / 2, BLOB_LEN / 2);
    // Up to the end of the last string read.
    __u64 size = __builtin_offsetof(struct call_paths, str);
    if (slot > 0) {
        __s64 last = e->len[(slot - 1) & (STR_SLOTS - 1)];
        if (last < 0)
            last = 0;
        size += (__u64)(slot - 1) * STR_LEN + (last & (STR_LEN - 1 + STR_LEN));
    }
    if (size > sizeof(*e))
        size = sizeof(*e);
    if (bpf_ringbuf_output(&EVENTS, e, size, wake_flags(me)) < 0)
        lost();
}

// x86_64's call numbers that are written as a start and an end.
#define NR_RT_SIGRETURN 15
#define NR_CLONE 56
#define NR_FORK 57
#define NR_VFORK 58
#define NR_EXIT 60
#define NR_EXIT_GROUP 231
#define NR_CLONE3 435
#define NR_EXECVE 59
#define NR_PRCTL 157
#define NR_EXECVEAT 322

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct raw_ctx *raw)
{
#ifdef HONK_BENCH_EMPTY
    return 0;
#endif
    __s64 nr = raw->second;
    // Most calls are written when they end: this program only starts the
    // three kinds that are not, and returns at once for the others.
    if (nr != NR_EXIT && nr != NR_EXIT_GROUP && nr != NR_RT_SIGRETURN) {
        __u32 n = (__u32)nr;
        struct spec *s = bpf_map_lookup_elem(&SPECS, &n);
        if (!s || s->argv <= 0)
            return 0;
    }
    __u64 id = bpf_get_current_pid_tgid();
    struct seen *me = current_task(id);
    if (!me)
        return 0;
    struct x86_regs regs;
    if (bpf_probe_read_kernel(&regs, sizeof(regs), (const void *)raw->regs) < 0)
        return 0;
    struct sys_enter_ctx call = {
        .id = nr,
        .args = {regs.di, regs.si, regs.dx, regs.r10, regs.r8, regs.r9},
    };
    struct sys_enter_ctx *ctx = &call;
    __u32 n = (__u32)nr;
    struct spec *s = bpf_map_lookup_elem(&SPECS, &n);
    if (s && s->argv > 0) {
        enter_exec(ctx, id, s, me);
        return 0;
    }
    struct enter *e = bpf_ringbuf_reserve(&EVENTS, sizeof(*e), 0);
    if (!e) {
        lost();
        return 0;
    }
    fill_enter(e, KIND_ENTER, id, ctx, me);
    bpf_ringbuf_submit(e, wake_flags(me));
    return 0;
}

// The registers sys_exit reads, r10 to orig_ax (struct x86_regs's order).
struct exit_regs {
    __u64 r10, r9, r8, ax, cx, dx, si, di, orig_ax;
};

SEC("raw_tracepoint/sys_exit")
int sys_exit(struct raw_ctx *raw)
{
#ifdef HONK_BENCH_EMPTY
    return 0;
#endif
    __u64 id = bpf_get_current_pid_tgid();
    struct seen *me = current_task(id);
    if (!me)
        return 0;
#ifdef HONK_BENCH_SMALLEST
    struct header *small = bpf_ringbuf_reserve(&EVENTS, sizeof(*small), 0);
    if (!small) {
        lost();
        return 0;
    }
    fill_header(small, 0x7f, id, me);
    bpf_ringbuf_submit(small, wake_flags(me));
    return 0;
#endif
    struct exit_regs regs;
    if (bpf_probe_read_kernel(&regs, sizeof(regs), (const void *)(raw->regs + __builtin_offsetof(struct x86_regs, r10))) < 0)
        return 0;
    __s64 nr = regs.orig_ax;
    __s64 ret = raw->second;
    // A new program or name: what SEEN holds of this task is stale.
    if (ret == 0 && (nr == NR_EXECVE || nr == NR_EXECVEAT || nr == NR_PRCTL))
        moved();
    // A new child's end of the call that made it.
    if (ret == 0 && (nr == NR_CLONE || nr == NR_CLONE3 || nr == NR_FORK || nr == NR_VFORK))
        return 0;
    __u32 n = (__u32)nr;
    struct spec *s = nr >= 0 ? bpf_map_lookup_elem(&SPECS, &n) : 0;
    // The end of a call whose start was written (rt_sigreturn's end has
    // orig_ax -1): the end alone.
    if (nr < 0 || (s && s->argv > 0)) {
        struct exit *e = bpf_ringbuf_reserve(&EVENTS, sizeof(*e), 0);
        if (!e) {
            lost();
            return 0;
        }
        fill_header(&e->h, KIND_EXIT, id, me);
        e->id = nr;
        e->ret = ret;
        bpf_ringbuf_submit(e, wake_flags(me));
        return 0;
    }
    struct sys_enter_ctx call = {
        .id = nr,
        .args = {regs.di, regs.si, regs.dx, regs.r10, regs.r8, regs.r9},
    };
    if (s && (s->strings || s->sock > 0 || s->blob > 0 || s->blob2 > 0)) {
        call_paths(&call, ret, id, s, me);
        return 0;
    }
    struct call *e = bpf_ringbuf_reserve(&EVENTS, sizeof(*e), 0);
    if (!e) {
        lost();
        return 0;
    }
    fill_enter(&e->e, KIND_CALL, id, &call, me);
    e->ret = ret;
    bpf_ringbuf_submit(e, wake_flags(me));
    return 0;
}

static __always_inline void on_fork(__u32 child)
{
    __u64 id = bpf_get_current_pid_tgid();
    __u32 tgid = id >> 32;
    __u32 tid = (__u32)id;
    // Records look a process's parent up by its tgid: a new thread's entry
    // (its own process) is never read as a parent.
    bpf_map_update_elem(&PARENTS, &child, &tgid, BPF_ANY);
    if (bpf_map_lookup_elem(&TRACKED, &tgid) || bpf_map_lookup_elem(&SPAWNERS, &tid))
        bpf_map_update_elem(&TRACKED, &child, &tgid, BPF_ANY);
    moved();
}

// sched_process_fork(struct task_struct *parent, struct task_struct *child),
// raw: the child's pid read where user space found it in the kernel's BTF.
// Used when it was found; detaching it waits for no grace period.
SEC("raw_tracepoint/sched_process_fork")
int process_fork_raw(struct raw_args *ctx)
{
    __u32 zero = 0;
    struct config *c = bpf_map_lookup_elem(&CONFIG, &zero);
    if (!c || !c->pid_offset)
        return 0;
    __s32 child = 0;
    if (bpf_probe_read_kernel(&child, sizeof(child), (const void *)(ctx->args[1] + c->pid_offset)) < 0 || child <= 0)
        return 0;
    on_fork(child);
    return 0;
}

// sched_process_fork's record since Linux 6.10 (comms as __data_loc); user
// space attaches this one or the next after reading the tracepoint's format.
SEC("tracepoint/sched/sched_process_fork")
int process_fork(struct fork_ctx_6 *ctx)
{
    on_fork(ctx->child_pid);
    return 0;
}

// sched_process_fork's record before (comms inline).
SEC("tracepoint/sched/sched_process_fork")
int process_fork_old(struct fork_ctx_old *ctx)
{
    on_fork(ctx->child_pid);
    return 0;
}

// sched_process_exit(struct task_struct *p, ...), in the task that ends.
SEC("raw_tracepoint/sched_process_exit")
int process_exit(struct raw_args *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    __u32 tgid = id >> 32;
    __u32 tid = (__u32)id;
    if (tid != tgid) {
        bpf_map_delete_elem(&PARENTS, &tid);
        bpf_map_delete_elem(&TRACKED, &tid);
        moved();
        return 0;
    }
    struct seen *me = current_task(id);
    if (me) {
        struct header *h = bpf_ringbuf_reserve(&EVENTS, sizeof(*h), 0);
        if (!h)
            lost();
        else {
            fill_header(h, KIND_PROCESS_END, id, me);
            bpf_ringbuf_submit(h, wake_flags(me));
        }
        bpf_map_delete_elem(&TRACKED, &tgid);
    }
    bpf_map_delete_elem(&PARENTS, &tgid);
    moved();
    return 0;
}

// signal_deliver(int sig, struct kernel_siginfo *info, struct k_sigaction *ka),
// in the task that receives the signal; info starts with si_signo, si_errno
// and si_code (ABI).
SEC("raw_tracepoint/signal_deliver")
int signal_deliver(struct raw_args *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    struct seen *me = current_task(id);
    if (!me)
        return 0;
    __s32 code = 0;
    if (bpf_probe_read_kernel(&code, sizeof(code), (const void *)(ctx->args[1] + 8)) < 0)
        code = 0;
    struct signal *e = bpf_ringbuf_reserve(&EVENTS, sizeof(*e), 0);
    if (!e) {
        lost();
        return 0;
    }
    fill_header(&e->h, KIND_SIGNAL, id, me);
    e->sig = (__s32)ctx->args[0];
    e->code = code;
    bpf_ringbuf_submit(e, wake_flags(me));
    return 0;
}

// The kernel lends the helpers that read user memory to GPL-compatible
// programs only; this file may be used under the GPL-2.0 (see the top).
char LICENSE[] SEC("license") = "GPL";
