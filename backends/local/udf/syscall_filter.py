"""A seccomp filter for the UDF worker: one process, no sockets, no memory or IPC
outside it.

Applied by :func:`hybrid.backends.local.udf.sandbox.confine` after Landlock, for the
worker and every thread it starts (``SECCOMP_FILTER_FLAG_TSYNC``). The kernel then
answers, for this process only:

- **new processes** (``fork``, ``vfork``, ``clone`` without ``CLONE_THREAD``) with
  EPERM, and ``clone3`` with ENOSYS, so that glibc starts threads with ``clone``
  (whose flags a filter can read): threads work, ``subprocess`` and
  ``multiprocessing`` do not. A UDF is then one process, so the worker's address-space
  limit bounds all of its memory and the server's kill of the worker ends all of its
  work: a child started in a session of its own outlived the job, the time limit and
  the server, each child with a memory limit of its own, and uid 0 has no process
  count limit (a fork bomb);
- **leaving the process group** (``setsid``, ``setpgid``) with EPERM;
- **signals to other processes** (``kill``, ``tgkill``, ``rt_sigqueueinfo``,
  ``rt_tgsigqueueinfo`` of another process than the worker; ``tkill``,
  ``pidfd_send_signal``) with EPERM: the worker runs as the server's user, and Landlock
  scopes signals only from ABI 6 (Linux 6.12): before, nothing kept
  ``os.kill(os.getppid(), 9)`` from ending the server;
- **sockets** (``socket()`` of any family) with EPERM: Landlock denies TCP
  ``bind``/``connect`` but has no rule for UDP, nor for the other families; a UDF
  reached the VM's host over ``AF_VSOCK`` (CID 2), where a Firecracker host forwards
  such connections to its own Unix sockets, and any local service listening on a Unix
  socket path (Landlock does not cover ``connect`` to one). ``socketpair`` (asyncio's
  event loop) still works: its two ends reach nothing else;
- **memory and IPC outside the process** with EPERM: ``memfd_create`` (pages written to
  a memfd count in no address-space limit), System V shared memory, message queues and
  semaphores and POSIX message queues (they outlive the worker: memory that stays after
  the job, and state one user's UDF left for another's to read), ``io_uring`` (its
  operations open sockets without the ``socket`` call the filter checks).

Other architectures than x86_64 and aarch64 have no filter here: the worker refuses to
run UDFs there (:class:`~hybrid.backends.local.udf.sandbox.SandboxUnavailable`), as
without Landlock. Standard library only: imported before the worker confines itself.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
from typing import NamedTuple

from hybrid.errors import HybridError

# classic BPF (linux/filter.h) and seccomp (linux/seccomp.h) constants
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JSET_K = 0x45
_JGE_K = 0x35
_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1
_CLONE_THREAD = 0x00010000
#: offsets in ``struct seccomp_data``: nr, arch, then args[0] (low 32 bits, little end)
_NR, _ARCH, _ARG0 = 0, 4, 16
#: x32 system calls on x86_64 carry this bit: refused, they would bypass the numbers
_X32_BIT = 0x40000000


class _Calls(NamedTuple):
    """A machine's audit arch and system call numbers."""

    arch: int
    seccomp: int
    refused: tuple[int, ...]
    clone: int
    clone3: int
    #: kill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo: their first argument a process
    signals: tuple[int, ...]


#: io_uring_setup, io_uring_enter, io_uring_register; memfd_secret; pidfd_send_signal
#: (the same numbers on both machines)
_COMMON = (425, 426, 427, 447, 424)
_MACHINES = {
    # refused: fork, vfork, setsid, setpgid, socket; shmget, shmat, shmctl, semget, semop,
    # semctl, shmdt, msgget, msgsnd, msgrcv, msgctl, semtimedop; mq_open .. mq_getsetattr;
    # memfd_create; tkill
    "x86_64": _Calls(
        0xC000003E,
        317,
        (57, 58, 112, 109, 41, *range(29, 32), *range(64, 72), 220, *range(240, 246), 319, 200),
        clone=56,
        clone3=435,
        signals=(62, 234, 129, 297),
    ),
    # refused: setsid, setpgid, socket (no fork or vfork calls: glibc uses clone); mq_open
    # .. mq_getsetattr, msgget .. msgsnd, semget .. semop, shmget .. shmdt; memfd_create;
    # tkill
    "aarch64": _Calls(
        0xC00000B7,
        277,
        (157, 154, 198, *range(180, 198), 279, 130),
        clone=220,
        clone3=435,
        signals=(129, 131, 138, 240),
    ),
}


class FilterUnavailable(HybridError):
    """The kernel or the machine cannot take the filter."""


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def _own_signals(number: int, pid: int) -> list[bytes]:
    """``number`` (a call whose first argument is a process) allowed for the worker
    itself only: ``pid``, 0 or ``-pid`` (its own process group)."""
    own = (pid, 0, (1 << 32) - pid)
    ops = [_op(_JEQ_K, number, jf=2 + 2 * len(own)), _op(_LD_W_ABS, _ARG0)]
    for value in own:
        ops += [_op(_JEQ_K, value, jf=1), _op(_RET_K, _RET_ALLOW)]
    return [*ops, _op(_RET_K, _RET_ERRNO | errno.EPERM)]


def program(machine: str, pid: int) -> list[bytes]:
    """The filter's instructions for ``machine`` (``platform.machine()``) in the process
    ``pid``."""
    calls = _MACHINES.get(machine)
    if calls is None:
        raise FilterUnavailable(f"no system call filter for the {machine} architecture")
    eperm, enosys = _RET_ERRNO | errno.EPERM, _RET_ERRNO | errno.ENOSYS
    ops = [
        _op(_LD_W_ABS, _ARCH),
        _op(_JEQ_K, calls.arch, jt=1),
        _op(_RET_K, _RET_KILL_PROCESS),
        _op(_LD_W_ABS, _NR),
    ]
    if machine == "x86_64":
        ops += [_op(_JGE_K, _X32_BIT, jf=1), _op(_RET_K, eperm)]
    for number in (*calls.refused, *_COMMON):
        ops += [_op(_JEQ_K, number, jf=1), _op(_RET_K, eperm)]
    ops += [_op(_JEQ_K, calls.clone3, jf=1), _op(_RET_K, enosys)]
    ops += [  # clone: threads only
        _op(_JEQ_K, calls.clone, jf=4),
        _op(_LD_W_ABS, _ARG0),
        _op(_JSET_K, _CLONE_THREAD, jt=1),
        _op(_RET_K, eperm),
        _op(_RET_K, _RET_ALLOW),
    ]
    for number in calls.signals:
        ops += _own_signals(number, pid)
    return [*ops, _op(_RET_K, _RET_ALLOW)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install() -> None:
    """Filter this process's system calls (module docstring); needs no_new_privs set.
    Irreversible."""
    machine = platform.machine()
    ops = program(machine, os.getpid())
    code = ctypes.create_string_buffer(b"".join(ops), len(ops) * 8)
    prog = _Program(len(ops), ctypes.addressof(code))
    libc = ctypes.CDLL(None, use_errno=True)
    number = _MACHINES[machine].seccomp
    flags = _SECCOMP_FILTER_FLAG_TSYNC
    if libc.syscall(number, _SECCOMP_SET_MODE_FILTER, flags, ctypes.byref(prog)) != 0:
        raise FilterUnavailable(f"seccomp filter refused: {os.strerror(ctypes.get_errno())}")
