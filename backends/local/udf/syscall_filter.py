"""A seccomp filter for the UDF worker: one process, Unix sockets only.

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
- **sockets other than Unix ones** (``socket(AF_INET | AF_INET6 | AF_VSOCK | ...)``)
  with EPERM: Landlock denies TCP ``bind``/``connect`` but has no rule for UDP, nor for
  the other families; a UDF reached the VM's host over ``AF_VSOCK`` (CID 2), where a
  Firecracker host forwards such connections to its own Unix sockets.

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
#: the one socket family a UDF may open (abstract ones Landlock scopes to the worker)
_AF_UNIX = 1
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
    socket: int


_MACHINES = {
    # refused: fork, vfork, setsid, setpgid
    "x86_64": _Calls(0xC000003E, 317, (57, 58, 112, 109), clone=56, clone3=435, socket=41),
    # refused: setsid, setpgid (no fork or vfork calls: glibc uses clone)
    "aarch64": _Calls(0xC00000B7, 277, (157, 154), clone=220, clone3=435, socket=198),
}


class FilterUnavailable(RuntimeError):
    """The kernel or the machine cannot take the filter."""


def _op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def program(machine: str) -> list[bytes]:
    """The filter's instructions for ``machine`` (``platform.machine()``)."""
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
    for number in calls.refused:
        ops += [_op(_JEQ_K, number, jf=1), _op(_RET_K, eperm)]
    ops += [_op(_JEQ_K, calls.clone3, jf=1), _op(_RET_K, enosys)]
    ops += [  # clone: threads only
        _op(_JEQ_K, calls.clone, jf=4),
        _op(_LD_W_ABS, _ARG0),
        _op(_JSET_K, _CLONE_THREAD, jt=1),
        _op(_RET_K, eperm),
        _op(_RET_K, _RET_ALLOW),
    ]
    ops += [  # socket: Unix sockets only
        _op(_JEQ_K, calls.socket, jf=4),
        _op(_LD_W_ABS, _ARG0),
        _op(_JEQ_K, _AF_UNIX, jf=1),
        _op(_RET_K, _RET_ALLOW),
        _op(_RET_K, eperm),
    ]
    return [*ops, _op(_RET_K, _RET_ALLOW)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install() -> None:
    """Filter this process's system calls (module docstring); needs no_new_privs set.
    Irreversible."""
    machine = platform.machine()
    ops = program(machine)
    code = ctypes.create_string_buffer(b"".join(ops), len(ops) * 8)
    prog = _Program(len(ops), ctypes.addressof(code))
    libc = ctypes.CDLL(None, use_errno=True)
    number = _MACHINES[machine].seccomp
    flags = _SECCOMP_FILTER_FLAG_TSYNC
    if libc.syscall(number, _SECCOMP_SET_MODE_FILTER, flags, ctypes.byref(prog)) != 0:
        raise FilterUnavailable(f"seccomp filter refused: {os.strerror(ctypes.get_errno())}")
