#define _GNU_SOURCE
#include "CPosix.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int pixelhook_open_tmpfile(const char *directory, mode_t mode)
{
    return open(directory, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
}

int pixelhook_link_tmpfile(int fd, const char *path)
{
    char proc_path[64];
    snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc_path, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}

int pixelhook_child_has_exited(pid_t pid)
{
    siginfo_t info = {0};
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0)
        return -1;
    return info.si_pid == pid ? 1 : 0;
}

int pixelhook_reap(pid_t pid, int *exit_code, int *signal_number)
{
    int status = 0;
    pid_t got;
    do {
        got = waitpid(pid, &status, 0);
    } while (got < 0 && errno == EINTR);
    if (got < 0)
        return -1;
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    *signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return 0;
}

int pixelhook_pipe_cloexec(int fds[2])
{
    return pipe2(fds, O_CLOEXEC);
}

static void default_signals(posix_spawnattr_t *attr, short flags)
{
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(attr, &all);
    posix_spawnattr_setsigmask(attr, &none);
    posix_spawnattr_setflags(attr, flags | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
}

int pixelhook_spawn_handler(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                            int stdin_fd, int output_fd, const char *directory,
                            const int *inherit_fds, int inherit_count)
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
    posix_spawn_file_actions_adddup2(&actions, output_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, output_fd, 2);
    posix_spawn_file_actions_addchdir_np(&actions, directory);
    /* The locks the handler holds too (fd 3, 4, ...): the build's lock and its slot stay held
     * while it runs even if its runner is killed. Copied above any target number first: dup2
     * onto the same number would leave FD_CLOEXEC set. */
    int copies[8];
    int count = inherit_count < 8 ? inherit_count : 8;
    for (int i = 0; i < count; i++) {
        copies[i] = fcntl(inherit_fds[i], F_DUPFD_CLOEXEC, 3 + count);
        if (copies[i] >= 0) posix_spawn_file_actions_adddup2(&actions, copies[i], 3 + i);
    }
    /* Nothing else reaches the handler: not a descriptor a web server leaked to us without
     * FD_CLOEXEC, nor the runner's own slot (its fd 3, replaced above when a lock goes there). */
    posix_spawn_file_actions_addclosefrom_np(&actions, 3 + count);
    posix_spawnattr_setpgroup(&attr, 0);
    default_signals(&attr, POSIX_SPAWN_SETPGROUP);
    int rc = posix_spawn(pid, path, &actions, &attr, argv, envp);
    for (int i = 0; i < count; i++) if (copies[i] >= 0) close(copies[i]);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc;
}

int pixelhook_spawn_reader(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                           int output_fd)
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, output_fd, 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    posix_spawnattr_setpgroup(&attr, 0);
    default_signals(&attr, POSIX_SPAWN_SETPGROUP);
    int rc = posix_spawn(pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc;
}

int pixelhook_spawn_detached(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                             int inherit_fd, int wake_fd)
{
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    /* Copies above 4 first: dup2 onto the same number would keep FD_CLOEXEC, and one source
     * may sit on the other's target. */
    int slot_copy = inherit_fd >= 0 ? fcntl(inherit_fd, F_DUPFD_CLOEXEC, 5) : -1;
    int wake_copy = wake_fd >= 0 ? fcntl(wake_fd, F_DUPFD_CLOEXEC, 5) : -1;
    if (slot_copy >= 0) posix_spawn_file_actions_adddup2(&actions, slot_copy, 3);
    if (wake_copy >= 0) posix_spawn_file_actions_adddup2(&actions, wake_copy, 4);
    /* Nothing of the request's connection may keep the web server waiting. */
    posix_spawn_file_actions_addclosefrom_np(&actions, wake_copy >= 0 ? 5 : slot_copy >= 0 ? 4 : 3);
    default_signals(&attr, POSIX_SPAWN_SETSID);
    int rc = (inherit_fd >= 0 && slot_copy < 0) || (wake_fd >= 0 && wake_copy < 0)
        ? errno : posix_spawn(pid, path, &actions, &attr, argv, envp);
    if (slot_copy >= 0) close(slot_copy);
    if (wake_copy >= 0) close(wake_copy);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    return rc;
}

int pixelhook_become_subreaper(void)
{
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int pixelhook_is_subreaper(void)
{
    int flag = 0;
    return prctl(PR_GET_CHILD_SUBREAPER, &flag, 0, 0, 0) == 0 && flag != 0;
}

int pixelhook_accept_cloexec(int listener, struct sockaddr *address, unsigned int *length) {
    socklen_t size = *length;
    int fd = accept4(listener, address, &size, SOCK_CLOEXEC);
    *length = size;
    return fd;
}

int pixelhook_set_process_name(const char *name) {
    return prctl(PR_SET_NAME, name, 0, 0, 0);
}

int pixelhook_signal_on_parent_death(int signal) {
    return prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0);
}
