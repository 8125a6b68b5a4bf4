"""Confinement of the UDF worker process (runs inside the worker, before any UDF code).

The guarantee, in the order it is applied:

1. **Limits** (``resource.setrlimit``): address space (memory), CPU seconds, size of
   any file written, no core dumps; a low CPU priority (by default the lowest, nice
   19, for its autogroup too: :func:`lower_priority`). The wall-clock limit is enforced by the
   server, which kills the worker's process group.
2. **No privileges**: ``PR_SET_NO_NEW_PRIVS``; when the server runs as root, every
   capability is dropped (bounding, ambient, effective, permitted, inheritable), so
   uid 0 inside the worker is an ordinary user for the kernel (which still lets the
   owner of a file read it: hence the short list of ``/etc`` below).
3. **Landlock** (Linux >= 5.13, unprivileged, enforced by the kernel for this process
   and everything it starts): the file system is readable only under the Python
   installation and the system library folders (``/usr``, ``/lib*``; of ``/etc`` only
   what the libraries read, :data:`ETC_READ_PATHS`, not ``/etc/shadow`` or ssh host
   keys) and the worker's own ``/proc`` folder, and writable only in the worker's own
   exchange folder. Everything else - the server's
   data folder with every user's jobs and results, its keys, the project checkout,
   home folders, ``/proc`` of other processes - cannot be opened. With Landlock ABI
   >= 4 TCP ``bind``/``connect`` are denied (no calls to the server's API or
   elsewhere); with ABI >= 6 signals to, and abstract sockets of, processes outside
   the sandbox are denied.
4. **One process, no sockets** (seccomp, :mod:`.syscall_filter`): no ``fork``,
   ``subprocess`` or ``multiprocessing`` (threads work), no leaving the process group,
   no ``socket()`` (``socketpair`` works), no memfd, System V or POSIX IPC, io_uring,
   no signal to another process (whatever the Landlock ABI):
   the worker's memory limit bounds the whole UDF, the server's kill ends all of it and
   leaves nothing behind, UDP and local Unix sockets are closed as TCP is.
5. **A bounded number of threads** (:mod:`.task_limit`, before the steps above): a pids
   cgroup the worker joins, or RLIMIT_NPROC for a user other than uid 0.

When the kernel has no Landlock, :func:`confine` raises :class:`SandboxUnavailable`
and no UDF runs (the server refuses UDFs rather than run them unconfined).

Only the standard library is used here: the module is imported by the worker
before it confines itself.
"""

from __future__ import annotations

import ctypes
import os
import resource
from collections.abc import Iterable
from dataclasses import dataclass

from hybrid.backends.local.udf import syscall_filter
from hybrid.errors import HybridError

_SYS_LANDLOCK_CREATE_RULESET = 444  # the same number on x86_64 and arm64
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

# file-system access rights (linux/landlock.h), by the ABI version that introduced them
_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_ABI1 = (1 << 13) - 1  # EXECUTE .. MAKE_SYM
_FS_REFER = 1 << 13  # ABI 2
_FS_TRUNCATE = 1 << 14  # ABI 3
_FS_IOCTL_DEV = 1 << 15  # ABI 5
_NET_BIND_TCP = 1 << 0  # ABI 4
_NET_CONNECT_TCP = 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
_SCOPE_SIGNAL = 1 << 1

#: rights that may be granted on a regular file (the rest only apply to folders)
_FILE_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
_READ_RIGHTS = _FS_EXECUTE | _FS_READ_FILE | _FS_READ_DIR

#: system folders the interpreter and its libraries read (shared libraries, programs)
SYSTEM_READ_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
#: what of ``/etc`` they read: the loader's cache, time zone, certificates, name service,
#: MIME types. Not the folder: it holds secrets that their owner root reads without any
#: capability (``/etc/shadow``, ``/etc/ssh`` host keys, ``/etc/sudoers``)
ETC_READ_PATHS = (
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
    "/etc/timezone", "/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/passwd",
    "/etc/group", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/hosts", "/etc/resolv.conf",
    "/etc/gai.conf", "/etc/mime.types", "/etc/os-release", "/etc/lsb-release",
    "/etc/fonts", "/etc/matplotlibrc",
)  # fmt: skip
#: the worker's own ``/proc/<pid>`` (``/proc/self`` is opened in the worker): threadpoolctl,
#: which scikit-learn's ``KMeans`` calls, lists the loaded libraries from
#: ``/proc/self/maps``; another process's ``/proc`` folder stays closed
OWN_PROC_PATHS = ("/proc/self",)
#: devices numpy and the standard library open
DEVICE_PATHS = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")


class SandboxUnavailable(HybridError):
    """The kernel cannot confine the worker (no Landlock)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one UDF worker."""

    #: address-space limit in bytes (RLIMIT_AS)
    memory_bytes: int
    #: CPU time in seconds (RLIMIT_CPU; SIGXCPU, then SIGKILL one second later)
    cpu_seconds: int
    #: largest file the worker may write, bytes (RLIMIT_FSIZE)
    file_bytes: int


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 when Landlock is unavailable or disabled."""
    libc = _libc()
    version = libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, 0, _LANDLOCK_CREATE_RULESET_VERSION)
    return max(0, int(version))


def die_with_parent(parent: int) -> None:
    """Be killed when the server that started this worker ends (no orphaned UDFs)."""
    _libc().prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0)  # SIGKILL
    if os.getppid() != parent:  # the server ended before the line above
        os._exit(1)


def set_limits(limits: Limits) -> None:
    """Apply ``limits`` to this process (inherited by its children)."""
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def lower_priority(nice: int) -> None:
    """Give this process, the threads it will start and its autogroup the CPU priority
    ``nice`` (``UdfSettings.nice``; never above this process's own: raising it takes a
    privilege), before Landlock closes ``/proc``. The worker runs in a session of its
    own: with the kernel's autogroups (``sched_autogroup_enabled``) a session is
    scheduled as one entity whose weight is the autogroup's nice, not its threads', so
    both are set."""
    nice = max(nice, os.getpriority(os.PRIO_PROCESS, 0))
    os.setpriority(os.PRIO_PROCESS, 0, nice)
    try:
        with open("/proc/self/autogroup", "w", encoding="ascii") as file:
            file.write(str(nice))
    except OSError:
        pass  # a kernel without autogroups: the threads' nice value is what counts


def _drop_privileges(libc: ctypes.CDLL) -> None:
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SandboxUnavailable(f"prctl(NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}")
    if os.geteuid() != 0:
        return
    for cap in range(64):
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the last capability
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        raise SandboxUnavailable(f"capset failed: {os.strerror(ctypes.get_errno())}")


def _handled_rights(abi: int) -> tuple[int, int, int]:
    fs = _FS_ABI1
    if abi >= 2:
        fs |= _FS_REFER
    if abi >= 3:
        fs |= _FS_TRUNCATE
    if abi >= 5:
        fs |= _FS_IOCTL_DEV
    net = _NET_BIND_TCP | _NET_CONNECT_TCP if abi >= 4 else 0
    scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if abi >= 6 else 0
    return fs, net, scoped


def _add_rule(libc: ctypes.CDLL, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a folder this system does not have
    try:
        if not os.path.isdir(path):
            rights &= _FILE_RIGHTS
        rule = _PathBeneathAttr(rights, fd)
        if libc.syscall(_SYS_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_PATH_BENEATH,
                        ctypes.byref(rule), 0) != 0:  # fmt: skip
            raise SandboxUnavailable(
                f"landlock_add_rule({path}) failed: {os.strerror(ctypes.get_errno())}"
            )
    finally:
        os.close(fd)


def confine(*, read: Iterable[str], write: Iterable[str]) -> int:
    """Allow reading only under ``read`` (and the system folders), writing only under
    ``write``; drop privileges. Irreversible for this process. Returns the Landlock ABI."""
    abi = landlock_abi()
    if abi < 1:
        raise SandboxUnavailable(
            "the kernel has no Landlock (Linux >= 5.13 with landlock in the 'lsm=' list): "
            "UDFs cannot be isolated from the server's data, so they are refused"
        )
    libc = _libc()
    fs, net, scoped = _handled_rights(abi)
    attr = _RulesetAttr(fs, net, scoped)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), size, 0)
    if ruleset < 0:
        raise SandboxUnavailable(f"landlock_create_ruleset: {os.strerror(ctypes.get_errno())}")
    try:
        for path in (*SYSTEM_READ_PATHS, *ETC_READ_PATHS, *OWN_PROC_PATHS, *read):
            _add_rule(libc, ruleset, path, _READ_RIGHTS & fs)
        for path in DEVICE_PATHS:
            _add_rule(libc, ruleset, path, (_FS_READ_FILE | _FS_WRITE_FILE) & fs)
        for path in write:
            _add_rule(libc, ruleset, path, fs)
        _drop_privileges(libc)
        if libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            raise SandboxUnavailable(
                f"landlock_restrict_self failed: {os.strerror(ctypes.get_errno())}"
            )
    finally:
        os.close(ruleset)
    try:
        syscall_filter.install()
    except syscall_filter.FilterUnavailable as exc:
        raise SandboxUnavailable(f"{exc}: UDFs cannot be kept to one process") from None
    return abi
