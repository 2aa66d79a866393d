// SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only
//
// honk's system-call capture in the kernel (see src/capture/mod.rs).
//
// The raw tracepoints sys_enter (registers, id) and sys_exit (registers,
// result) report every system call of the processes being watched (raw
// ones: the classic raw_syscalls tracepoints cost the watched process about
// twice as much per call); the arguments are x86_64's registers. Classic
// tracepoints, whose record layouts are ABI:
// sched:sched_process_fork adds a watched process's children to the watched
// set and remembers every child's parent; sched:sched_process_exit ends a
// process; signal:signal_deliver reports the signals they receive.
//
// No CO-RE and no vmlinux.h: nothing here reads a kernel structure but the
// saved registers, whose x86_64 layout is fixed (uapi asm/ptrace.h). What a
// call's arguments point to (paths, argv, socket addresses, a few small
// structs) is read from user memory as user space's SPECS table says for each
// call number: execve's at sys_enter (the memory is gone once it succeeds),
// the others' at sys_exit, when the call itself has faulted the pages in;
// the record goes to the EVENTS ring buffer, before the call's end, a
// second, small record. When the ring buffer is full the
// record is dropped and LOST counts it: user space reports the count.
//
// Build: src/capture/ebpf/build.sh (clang -O2 -g -target bpf).

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
#define MODE_CGROUP 2 // every process in cgroup CONFIG.cgroup

// Record kinds: the first byte of every record.
#define KIND_ENTER 1
#define KIND_ENTER_PATHS 2
#define KIND_ENTER_EXEC 3
#define KIND_EXIT 4
#define KIND_PROCESS_END 5
#define KIND_SIGNAL 6

struct config {
    __u32 mode;
    __u32 pad;
    __u64 cgroup;
    char comm[16];
};

// What to read for one call number; user space fills it.
struct spec {
    __u8 strings;     // bit i: argument i is a string
    __s8 argv;        // argument that is an argv array, or -1
    __s8 sock;        // argument that is a struct sockaddr *, or -1
    __s8 sock_len;    // argument that is its length, or -1
    __s8 blob;        // argument that points to a small struct, or -1
    __u8 blob_len;    // how many bytes of it
    __u8 pad[2];
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

// Records with strings are built in a per-CPU scratch buffer and copied
// into the ring buffer up to their last byte used: strings come last.
struct enter_paths {
    struct enter e;
    __s16 len[STR_SLOTS];
    __s16 sock_len;
    __s16 blob_len;
    __u8 pad[4];
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

// Calls whose arguments point to something, started and not yet ended, by
// thread: what they point to is read when they end, when the kernel has
// faulted the pages in (a string in a page not yet touched cannot be read
// from a tracepoint when the call starts).
struct started {
    __s64 id;
    __u64 time;
    __u64 args[6];
};

// A plain (preallocated) hash: cheaper per call than an LRU one; a thread's
// entry goes when the thread ends.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, __u32);
    __type(value, struct started);
} STARTED SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 16 << 20);
} EVENTS SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct enter_paths);
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

struct exit_ctx {
    __u64 common;
    char comm[16];
    __s32 pid;
};

struct signal_ctx {
    __u64 common;
    __s32 sig;
    __s32 errno;
    __s32 code;
};

// Waking the reader for every record costs the watched process more than the
// record itself: wake it only once a batch is waiting (user space also looks
// every few milliseconds by itself).
#define WAKE_AFTER (256 << 10)

// Only the record that crosses the mark wakes it (a window a record
// cannot jump over): once past it, waking it again for every record while
// it catches up would cost as much as waking it always.
static __always_inline __u64 wake_flags(void)
{
    __u64 avail = bpf_ringbuf_query(&EVENTS, BPF_RB_AVAIL_DATA);
    return avail >= WAKE_AFTER && avail < WAKE_AFTER + 8192 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void lost(void)
{
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&LOST, &zero);
    if (n)
        *n += 1;
}

// Whether the current task is watched.
static __always_inline int watched(__u32 tgid)
{
    __u32 zero = 0;
    struct config *c = bpf_map_lookup_elem(&CONFIG, &zero);
    if (!c)
        return 0;
    if (c->mode == MODE_TREE)
        return bpf_map_lookup_elem(&TRACKED, &tgid) != 0;
    if (c->mode == MODE_CGROUP)
        return bpf_get_current_cgroup_id() == c->cgroup;
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

static __always_inline void fill_header(struct header *h, __u8 kind, __u64 id)
{
    __u32 tgid = id >> 32;
    __u32 tid = (__u32)id;
    __u32 *parent = bpf_map_lookup_elem(&PARENTS, &tgid);
    h->kind = kind;
    h->pad[0] = h->pad[1] = h->pad[2] = 0;
    h->tgid = tgid;
    h->tid = tid;
    h->ppid = parent ? *parent : 0;
    h->time = bpf_ktime_get_ns();
}

static __always_inline void fill_enter(struct enter *e, __u8 kind, __u64 id, struct sys_enter_ctx *ctx)
{
    fill_header(&e->h, kind, id);
    e->id = ctx->id;
#pragma unroll
    for (int i = 0; i < 6; i++)
        e->args[i] = ctx->args[i];
    bpf_get_current_comm(e->comm, sizeof(e->comm));
}

static __always_inline void enter_exec(struct sys_enter_ctx *ctx, __u64 id, struct spec *s)
{
    __u32 zero = 0;
    struct enter_exec *e = bpf_map_lookup_elem(&EXEC_SCRATCH, &zero);
    if (!e)
        return;
    fill_enter(&e->e, KIND_ENTER_EXEC, id, ctx);
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
        if (s->argv == i)
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
    if (bpf_ringbuf_output(&EVENTS, e, size, wake_flags()) < 0)
        lost();
}

static __always_inline void enter_paths(struct started *st, __u64 id, struct spec *s)
{
    __u32 zero = 0;
    struct enter_paths *e = bpf_map_lookup_elem(&PATHS_SCRATCH, &zero);
    if (!e)
        return;
    fill_header(&e->e.h, KIND_ENTER_PATHS, id);
    e->e.h.time = st->time;
    e->e.id = st->id;
#pragma unroll
    for (int i = 0; i < 6; i++)
        e->e.args[i] = st->args[i];
    bpf_get_current_comm(e->e.comm, sizeof(e->e.comm));
    int slot = 0;
#pragma unroll
    for (int i = 0; i < 6; i++) {
        if (slot < STR_SLOTS && (s->strings & (1 << i))) {
            e->len[slot] = bpf_probe_read_user_str(e->str[slot], STR_LEN, (const void *)e->e.args[i]);
            slot++;
        }
    }
#pragma unroll
    for (int i = 0; i < STR_SLOTS; i++)
        if (i >= slot)
            e->len[i] = -1;
    e->sock_len = -1;
    if (s->sock >= 0 && s->sock < 6 && s->sock_len >= 0 && s->sock_len < 6) {
        __u64 ptr = 0, len = 0;
#pragma unroll
        for (int i = 0; i < 6; i++) {
            if (s->sock == i)
                ptr = e->e.args[i];
            if (s->sock_len == i)
                len = e->e.args[i];
        }
        if (len > SOCK_LEN)
            len = SOCK_LEN;
        if (ptr && len > 0 && bpf_probe_read_user(e->sock, len, (const void *)ptr) == 0)
            e->sock_len = len;
    }
    e->blob_len = -1;
    if (s->blob >= 0 && s->blob < 6) {
        __u64 ptr = 0;
#pragma unroll
        for (int i = 0; i < 6; i++)
            if (s->blob == i)
                ptr = e->e.args[i];
        __u32 n = s->blob_len;
        if (n > BLOB_LEN)
            n = BLOB_LEN;
        if (ptr && n > 0 && bpf_probe_read_user(e->blob, n, (const void *)ptr) == 0)
            e->blob_len = n;
    }
    // Up to the end of the last string read.
    __u64 size = __builtin_offsetof(struct enter_paths, str);
    if (slot > 0) {
        __s64 last = e->len[(slot - 1) & (STR_SLOTS - 1)];
        if (last < 0)
            last = 0;
        size += (__u64)(slot - 1) * STR_LEN + (last & (STR_LEN - 1 + STR_LEN));
    }
    if (size > sizeof(*e))
        size = sizeof(*e);
    if (bpf_ringbuf_output(&EVENTS, e, size, wake_flags()) < 0)
        lost();
}

SEC("raw_tracepoint/sys_enter")
int sys_enter(struct raw_ctx *raw)
{
    __u64 id = bpf_get_current_pid_tgid();
    if (!watched(id >> 32))
        return 0;
    struct x86_regs regs;
    if (bpf_probe_read_kernel(&regs, sizeof(regs), (const void *)raw->regs) < 0)
        return 0;
    struct sys_enter_ctx call = {
        .id = raw->second,
        .args = {regs.di, regs.si, regs.dx, regs.r10, regs.r8, regs.r9},
    };
    struct sys_enter_ctx *ctx = &call;
    __u32 nr = (__u32)ctx->id;
    struct spec *s = bpf_map_lookup_elem(&SPECS, &nr);
    if (s && s->argv >= 0) {
        enter_exec(ctx, id, s);
        return 0;
    }
    if (s && (s->strings || s->sock >= 0 || s->blob >= 0)) {
        __u32 tid = (__u32)id;
        struct started st = {.id = ctx->id, .time = bpf_ktime_get_ns()};
#pragma unroll
        for (int i = 0; i < 6; i++)
            st.args[i] = ctx->args[i];
        bpf_map_update_elem(&STARTED, &tid, &st, BPF_ANY);
        return 0;
    }
    struct enter *e = bpf_ringbuf_reserve(&EVENTS, sizeof(*e), 0);
    if (!e) {
        lost();
        return 0;
    }
    fill_enter(e, KIND_ENTER, id, ctx);
    bpf_ringbuf_submit(e, wake_flags());
    return 0;
}

SEC("raw_tracepoint/sys_exit")
int sys_exit(struct raw_ctx *raw)
{
    __u64 id = bpf_get_current_pid_tgid();
    if (!watched(id >> 32))
        return 0;
    __s64 nr_ = 0;
    if (bpf_probe_read_kernel(&nr_, sizeof(nr_), (const void *)(raw->regs + __builtin_offsetof(struct x86_regs, orig_ax))) < 0)
        return 0;
    struct {
        __s64 id;
        __s64 ret;
    } exit_ctx = {.id = nr_, .ret = raw->second}, *ctx = &exit_ctx;
    __u32 tid = (__u32)id;
    struct started *st = bpf_map_lookup_elem(&STARTED, &tid);
    if (st) {
        if (st->id == ctx->id) {
            __u32 nr = (__u32)ctx->id;
            struct spec *s = bpf_map_lookup_elem(&SPECS, &nr);
            if (s)
                enter_paths(st, id, s);
        }
        bpf_map_delete_elem(&STARTED, &tid);
    }
    struct exit *e = bpf_ringbuf_reserve(&EVENTS, sizeof(*e), 0);
    if (!e) {
        lost();
        return 0;
    }
    fill_header(&e->h, KIND_EXIT, id);
    e->id = ctx->id;
    e->ret = ctx->ret;
    bpf_ringbuf_submit(e, wake_flags());
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

SEC("tracepoint/sched/sched_process_exit")
int process_exit(struct exit_ctx *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    __u32 tgid = id >> 32;
    __u32 tid = (__u32)id;
    int was = watched(tgid);
    bpf_map_delete_elem(&STARTED, &tid);
    if (tid != tgid) {
        bpf_map_delete_elem(&PARENTS, &tid);
        bpf_map_delete_elem(&TRACKED, &tid);
        return 0;
    }
    if (!was) {
        bpf_map_delete_elem(&PARENTS, &tgid);
        return 0;
    }
    struct header *h = bpf_ringbuf_reserve(&EVENTS, sizeof(*h), 0);
    if (!h)
        lost();
    else {
        fill_header(h, KIND_PROCESS_END, id);
        bpf_ringbuf_submit(h, wake_flags());
    }
    bpf_map_delete_elem(&TRACKED, &tgid);
    bpf_map_delete_elem(&PARENTS, &tgid);
    return 0;
}

SEC("tracepoint/signal/signal_deliver")
int signal_deliver(struct signal_ctx *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    if (!watched(id >> 32))
        return 0;
    struct signal *e = bpf_ringbuf_reserve(&EVENTS, sizeof(*e), 0);
    if (!e) {
        lost();
        return 0;
    }
    fill_header(&e->h, KIND_SIGNAL, id);
    e->sig = ctx->sig;
    e->code = ctx->code;
    bpf_ringbuf_submit(e, wake_flags());
    return 0;
}

// The kernel lends the helpers that read user memory to GPL-compatible
// programs only; this file may be used under the GPL-2.0 (see the top).
char LICENSE[] SEC("license") = "GPL";
