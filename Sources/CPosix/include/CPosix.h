// Thin wrappers for the few Linux/glibc calls Swift's Glibc module does not import cleanly:
// macros (O_TMPFILE, W* status macros) and GNU extensions.
#ifndef PIXELHOOK_CPOSIX_H
#define PIXELHOOK_CPOSIX_H

#include <sys/types.h>
#include <sys/epoll.h>

/// open(dir, O_TMPFILE|O_WRONLY|O_CLOEXEC, mode): an unnamed file that vanishes on crash.
int pixelhook_open_tmpfile(const char *directory, mode_t mode);

/// linkat via /proc/self/fd: give an O_TMPFILE file its name; fails with EEXIST if taken.
int pixelhook_link_tmpfile(int fd, const char *path);

/// 1 if the child has exited (left unreaped, so its pid and group id stay reserved), 0 if
/// still running, -1 on error.
int pixelhook_child_has_exited(pid_t pid);

/// Reaps the child; stores its exit code (or -1) and terminating signal (or 0).
int pixelhook_reap(pid_t pid, int *exit_code, int *signal_number);

/// accept4(listener, address, length, SOCK_CLOEXEC): a FastCGI connection no handler inherits.
struct sockaddr;
int pixelhook_accept_cloexec(int listener, struct sockaddr *address, unsigned int *length);

/// prctl(PR_SET_NAME): the name ps and /proc/PID/comm show (a program started as /proc/self/exe shows "exe").
int pixelhook_set_process_name(const char *name);

/// prctl(PR_SET_PDEATHSIG, signal): `signal` arrives when the parent dies.
int pixelhook_signal_on_parent_death(int signal);

/// pipe2(fds, O_CLOEXEC).
int pixelhook_pipe_cloexec(int fds[2]);

/// posix_spawn with: stdin from `stdin_fd`, stdout and stderr to `output_fd`, working
/// directory `directory`, a new process group, default signal dispositions and an empty mask,
/// `inherit_fds` (at most 8) as fd 3, 4, ... and no other descriptor.
int pixelhook_spawn_handler(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                            int stdin_fd, int output_fd, const char *directory,
                            const int *inherit_fds, int inherit_count);

/* Like posix_spawn in a new session with stdio on /dev/null and no other descriptors, except
 * inherit_fd (if >= 0), which the child gets as fd 3 (a runner slot whose flock it takes over),
 * and wake_fd (if >= 0), which it gets as fd 4 (a resident runner's wake pipe). */
int pixelhook_spawn_detached(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                             int inherit_fd, int wake_fd);

/* posix_spawn for a child whose output is read: stdin and stderr on /dev/null, stdout to
 * `output_fd`, a new process group, default signal dispositions and an empty mask, no other
 * descriptor (nothing of a web server's connection). */
int pixelhook_spawn_reader(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                           int output_fd);

/* prctl(PR_SET_CHILD_SUBREAPER): orphaned descendants (a handler's setsid daemon) are
 * re-parented to this process instead of init, so they can be found among its children. */
int pixelhook_become_subreaper(void);
/* 1 if this process is a child subreaper (prctl(PR_GET_CHILD_SUBREAPER)), else 0. */
int pixelhook_is_subreaper(void);

#endif
