/*
 * caisson_shim: the few Linux calls that Swift cannot make directly, because they
 * are variadic in C (prctl, ioctl, syscall, fcntl), need struct layouts Swift does not
 * import well (clone3, openat2, CMSG macros), or are too new for glibc's headers.
 * Every function returns what the kernel returns (-1 and errno on failure) unless
 * its comment says otherwise; none of them allocates memory.
 */
#ifndef CAISSON_SHIM_H
#define CAISSON_SHIM_H

#include <stdint.h>
#include <sys/types.h>
/* Extended attributes (setxattr, fsetxattr, lgetxattr, ...): glibc declares them in a
 * header Swift's Glibc module does not include; layers carry xattrs and overlayfs
 * whiteouts are xattrs. */
#include <sys/xattr.h>

/* Fork-like clone with namespace flags: both processes return from the call, the child
 * with 0. Uses clone3 and falls back to clone on kernels without it. `flags` are CLONE_*
 * bits; the exit signal is always SIGCHLD. On success *pidfd receives a pidfd for the
 * child when pidfd is not NULL (CLONE_PIDFD), else -1. */
pid_t caisson_clone(uint64_t flags, int *pidfd);

/* pivot_root(2), which glibc does not wrap. */
int caisson_pivot_root(const char *new_root, const char *put_old);

/* prctl(2) with all five arguments spelled out (the libc function is variadic). */
int caisson_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);

/* Capability sets as 64-bit masks (capget/capset with _LINUX_CAPABILITY_VERSION_3)
 * for the calling thread. */
int caisson_capget(uint64_t *effective, uint64_t *permitted, uint64_t *inheritable);
int caisson_capset(uint64_t effective, uint64_t permitted, uint64_t inheritable);

/* Send one file descriptor over a unix socket with SCM_RIGHTS, together with `len`
 * bytes of `data` (at least one byte is always sent). */
int caisson_send_fd(int sock, int fd, const void *data, size_t len);

/* Receive a message of up to `cap` bytes into `buf`; *fd receives a descriptor passed
 * with SCM_RIGHTS, or -1 if none came. Returns the byte count, 0 at end of stream. */
ssize_t caisson_recv_fd(int sock, void *buf, size_t cap, int *fd);

/* Terminal ioctls. */
int caisson_unlockpt(int master);                         /* TIOCSPTLCK 0 */
int caisson_open_pty_peer(int master, int flags);         /* TIOCGPTPEER: open the slave */
int caisson_set_winsize(int fd, unsigned short rows, unsigned short cols);
int caisson_get_winsize(int fd, unsigned short *rows, unsigned short *cols);
int caisson_set_controlling_tty(int fd);                  /* TIOCSCTTY 0 */

/* close_range(2); flags may hold CLOSE_RANGE_CLOEXEC (4). */
int caisson_close_range(unsigned int first, unsigned int last, unsigned int flags);

/* mount_setattr(2) (Linux 5.12+): `set` and `clear` are MOUNT_ATTR_* bits; flags may
 * hold AT_RECURSIVE and AT_EMPTY_PATH. */
int caisson_mount_setattr(int dirfd, const char *path, unsigned int flags, uint64_t set, uint64_t clear);

/* seccomp(SECCOMP_SET_MODE_FILTER): `instructions` holds `count` classic BPF
 * instructions (struct sock_filter); flags are SECCOMP_FILTER_FLAG_*. Returns the
 * listener fd with SECCOMP_FILTER_FLAG_NEW_LISTENER, else 0; -1 on error. */
int caisson_seccomp_set_filter(const void *instructions, unsigned short count, unsigned int flags);

/* open_tree(2) and move_mount(2) (Linux 5.2+): a detached copy of a mount tree, and
 * attaching one. */
int caisson_open_tree(int dirfd, const char *path, unsigned int flags);
int caisson_move_mount(int from_dirfd, const char *from_path, int to_dirfd, const char *to_path, unsigned int flags);

/* openat2(2) with O_PATH|O_CLOEXEC (plus `extra_flags`) and the given RESOLVE_* bits:
 * used to resolve paths inside a root without ever leaving it. */
int caisson_openat2(int dirfd, const char *path, uint64_t extra_flags, uint64_t resolve);

/* execveat(2): used with AT_EMPTY_PATH to execute a sealed memfd. */
int caisson_execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags);

/* fcntl(2) with an int argument (F_ADD_SEALS, F_DUPFD_CLOEXEC, F_SETFD, F_GETFD, ...). */
int caisson_fcntl_int(int fd, int cmd, int arg);

/* setrlimit(2)/getrlimit(2) taking the resource as a plain int. */
int caisson_setrlimit(int resource, uint64_t soft, uint64_t hard);
int caisson_getrlimit(int resource, uint64_t *soft, uint64_t *hard);

/* keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): give the container its own session keyring. */
long caisson_join_session_keyring(const char *name);

/* statfs(2) reduced to the filesystem magic number (f_type) of `path`. */
int caisson_filesystem_type(const char *path, int64_t *type);

/* GNU extensions glibc declares only under _GNU_SOURCE, which Swift's Glibc module
 * does not see. Thin pass-throughs. */
int caisson_setns(int fd, int nstype);
int caisson_unshare(int flags);
int caisson_setresuid(uid_t ruid, uid_t euid, uid_t suid);
int caisson_setresgid(gid_t rgid, gid_t egid, gid_t sgid);
int caisson_memfd_create(const char *name, unsigned int flags);
int caisson_pipe2(int fds[2], int flags);
uint64_t caisson_makedev(unsigned int major, unsigned int minor);
int caisson_personality(unsigned long persona);

/* A close-on-exec signalfd for every signal (the caller blocks them first), and a
 * read of one signal number from it (-1 on error, errno set). */
int caisson_signalfd_all(void);
int caisson_signalfd_read(int fd);

/* Brings up the loopback interface of the calling thread's network namespace
 * (SIOCGIFFLAGS/SIOCSIFFLAGS with IFF_UP on "lo"): struct ifreq is a union Swift
 * handles badly. */
int caisson_loopback_up(void);

/* O_PATH, which glibc hides behind _GNU_SOURCE. */
extern const int CAISSON_O_PATH;

/* cgroup v2 device control (eBPF). Loads `count` 8-byte BPF instructions as a
 * BPF_PROG_TYPE_CGROUP_DEVICE program (license "Apache-2.0"); on failure the verifier's
 * message is written to `log` (up to `log_size` bytes). Returns the program fd. */
int caisson_bpf_load_device_program(const void *instructions, unsigned int count, char *log, unsigned int log_size);

/* Attaches a device program to the cgroup2 directory open at `cgroup_fd`, with
 * BPF_F_ALLOW_MULTI so programs of parent cgroups keep applying. */
int caisson_bpf_attach_device_program(int cgroup_fd, int program_fd);

/* posix_spawn file action closing every descriptor from `from` up in the child
 * (posix_spawn_file_actions_addclosefrom_np, glibc 2.34, hidden behind _GNU_SOURCE).
 * `actions` is a posix_spawn_file_actions_t. */
int caisson_spawn_add_closefrom(void *actions, int from);

#endif
