"""Students' kernels inside bubblewrap: what they can see, how much they can use, and how they end.

A sandboxed kernel sees, read-only: ``/usr`` (and the ``/bin``, ``/lib*``
links), the few files of ``/etc`` a Python process needs, the Python
environment running the grader (its prefixes and site-packages) and the extra
packages of :attr:`Sandbox.packages` (``dlutils``). It does **not** see the
repository, the grading workspace (gradebook, ``source/``, other students),
``/root``, ``/home``, or the ``grader`` package: where the package lies inside
a visible folder, an empty directory is mounted over it.

It can write only to private, size-limited memory file systems that vanish
with it: ``/home/student`` (its home, holding a copy of the submission folder
in ``/home/student/work``, the working directory), ``/tmp``, ``/dev/shm`` and
the folder of its IPC sockets. Its network namespace is empty (loopback
only), it has its own PID, IPC and UTS namespaces and no capabilities, and it
cannot create user namespaces (with bubblewrap >= 0.8).

Limits, configurable as ``c.Sandbox.<name>`` in a workspace's
``nbgrader_config.py``: address space per process (``RLIMIT_AS``), total
resident memory of all its processes (a watchdog), CPU time, processes and
threads (``RLIMIT_NPROC``; enforced because the kernel runs as an
unprivileged uid: when the grader runs as root, a fresh random uid of its
own), file size, and a wall-clock deadline per notebook. Everything is killed
at the end: the outer ``bwrap`` is killed, its init process dies with it
(``--die-with-parent``), and with it every process of the PID namespace.

The kernel's ZeroMQ sockets are Unix sockets in its private IPC folder; the
grader reaches them through ``/proc/<sandbox pid>/root/...``, so no writable
folder is shared with the host at all.
"""
from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path, PurePosixPath
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import Integer, List, Unicode
from traitlets.config import Configurable

RUN = "/run/grader"                  # grader-provided files inside the sandbox
IPC_DIR = f"{RUN}/ipc"               # the kernel's sockets (tmpfs)
HOME = "/home/student"
WORK = f"{HOME}/work"                # the kernel's working directory: a copy of the submission folder
KERNEL_CONNECTION = f"{RUN}/kernel.json"
_MPL_DIR = f"{HOME}/.config/matplotlib"


class Sandbox(Configurable):
    """Limits of a student's kernel (``c.Sandbox.<name> = ...`` in nbgrader_config.py)."""

    wall_seconds = Integer(300, help="Wall-clock limit per notebook: kernel start, every cell and the "
                           "hidden checks. The kernel is killed when it is reached.").tag(config=True)
    memory_mb = Integer(2048, help="Address space per process (RLIMIT_AS) and total resident memory "
                        "of all the sandbox's processes, in MiB.").tag(config=True)
    cpu_seconds = Integer(0, help="CPU time per process (RLIMIT_CPU); 0 means wall_seconds.").tag(config=True)
    processes = Integer(64, help="Processes and threads of the sandbox (RLIMIT_NPROC); the kernel "
                        "itself uses about 10.").tag(config=True)
    file_mb = Integer(64, help="Largest file the kernel may write (RLIMIT_FSIZE), in MiB.").tag(config=True)
    work_mb = Integer(256, help="Size of the kernel's writable home, holding the copy of the "
                      "submission folder, in MiB.").tag(config=True)
    tmp_mb = Integer(64, help="Size of /tmp and of /dev/shm inside the sandbox, in MiB.").tag(config=True)
    output_mb = Integer(4, help="Output kept per notebook (text, images, widget state), in MiB; "
                        "more is dropped with a note.").tag(config=True)
    result_mb = Integer(64, help="Data one call of a student's function may return to the hidden "
                        "checks, in MiB.").tag(config=True)
    packages = List(Unicode(), ["dlutils"], help="Packages outside the Python environment (e.g. the "
                    "repository's, installed in editable mode) that notebooks import; made visible "
                    "read-only.").tag(config=True)
    bwrap = Unicode("bwrap", help="The bubblewrap executable.").tag(config=True)

    def rlimits(self) -> list[tuple[str, int]]:
        mib = 1 << 20
        cpu = self.cpu_seconds or self.wall_seconds
        return [
            ("RLIMIT_AS", self.memory_mb * mib),
            ("RLIMIT_CPU", cpu),
            ("RLIMIT_NPROC", self.processes),
            ("RLIMIT_FSIZE", self.file_mb * mib),
            ("RLIMIT_CORE", 0),
            ("RLIMIT_NOFILE", 1024),
        ]


class SandboxError(RuntimeError):
    """The sandbox could not be set up or started."""


# ------------------------------------------------------------------ probing bubblewrap


def _bwrap_help(bwrap: str) -> str:
    try:
        done = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout + done.stderr


@functools.lru_cache(maxsize=4)
def unavailable(bwrap: str = "bwrap") -> str | None:
    """Why sandboxed grading cannot work on this machine, or ``None`` when it can.

    Not only "is bwrap installed": a tiny Python program is run in exactly the
    sandbox kernels get (namespaces, binds, uid switch, limits), so a kernel
    that would fail to start is caught before any submission is graded.
    """
    path = shutil.which(bwrap)
    if path is None:
        return (f"bubblewrap ({bwrap}) is not installed; on Debian/Ubuntu: "
                "sudo apt-get install -y bubblewrap")
    limits = Sandbox(bwrap=path)
    probe = "import numpy, os, sys; print('sandbox-ok', os.getuid())"
    run = SandboxRun(limits, submission=None)
    try:
        cmd = run.command([sys.executable, "-c", probe])
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, pass_fds=run.pass_fds,
                                  cwd=run.tmp)
        except subprocess.TimeoutExpired:
            return "a test program in the bubblewrap sandbox did not finish within 60 s"
        if done.returncode != 0 or "sandbox-ok" not in done.stdout:
            detail = (done.stderr or done.stdout).strip().splitlines()
            return (f"bubblewrap is installed ({path}) but a test program could not run in the sandbox "
                    f"(exit {done.returncode}: {detail[-1] if detail else 'no output'}); "
                    + start_failure_cause(done.stderr or done.stdout))
    except SandboxError as exc:
        return str(exc)
    finally:
        run.cleanup()
    return None


# What bwrap or the kernel says when it cannot start, and what that means for the instructor.
_CAUSES = (
    (("No permissions to create new namespace", "setting up uid map", "Creating new namespace failed",
      "unprivileged_userns_clone", "Operation not permitted"),
     "this machine does not let unprivileged users create user namespaces (see sysctl "
     "kernel.unprivileged_userns_clone, or kernel.apparmor_restrict_unprivileged_userns on Ubuntu 24.04)"),
    (("execvp", "No such file or directory"),
     "a file the kernel needs is not visible inside the sandbox (the Python environment is bound "
     "read-only by its real path: is it behind a link or on a file system bwrap cannot bind?)"),
    (("ModuleNotFoundError", "No module named"),
     "the kernel's Python started but could not import a package it needs; list packages outside "
     "the Python environment in c.Sandbox.packages"),
)


def start_failure_cause(message: str) -> str:
    """The likely cause of a sandbox that did not start, from bwrap's (or Python's) last words."""
    for needles, cause in _CAUSES:
        if any(n in message for n in needles):
            return cause
    return "bwrap's message above says why"


# ------------------------------------------------------------------ one sandbox


def _host_layout_args() -> list[str]:
    """/usr read-only and the top-level links into it, mirrored from the host."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives", "fonts",
                 "nsswitch.conf", "mime.types"):
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def _python_dirs(packages: list[str]) -> list[Path]:
    """Folders the kernel's Python needs: its prefixes, site-packages and the listed packages."""
    import importlib.util
    import site

    dirs = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    dirs.add(Path(os.path.realpath(sys.executable)).parent)
    for p in site.getsitepackages():
        if os.path.isdir(p):
            dirs.add(Path(p).resolve())
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        locations = list(spec.submodule_search_locations or [])
        if not locations and spec.origin:
            locations = [os.path.dirname(spec.origin)] if spec.origin.endswith("__init__.py") else [spec.origin]
        dirs.update(Path(p).resolve() for p in locations)
    usr = Path("/usr")
    kept = sorted(d for d in dirs if d != usr and usr not in d.parents)
    # drop folders inside another kept folder
    return [d for d in kept if not any(o != d and o in d.parents for o in kept)]


# Where the sandbox puts its own file systems: Python or a package the kernel needs cannot live there.
_PRIVATE = ("/proc", "/dev", HOME, RUN)


def _check_visible(folders: list[Path]) -> None:
    """Refuse, naming the folder, when the kernel's Python would be hidden by the sandbox's own mounts."""
    for folder in folders:
        for private in _PRIVATE:
            if folder == Path(private) or Path(private) in folder.parents:
                raise SandboxError(
                    f"the kernel needs {folder}, but the sandbox mounts its own {private} there; move the "
                    "Python environment (or the package) elsewhere, or grade trusted work with --no-sandbox")


@functools.lru_cache(maxsize=8)
def precompile(packages: tuple[str, ...]) -> None:
    """Bytecode of the extra packages kernels import (``dlutils``), written where Python looks for it.

    Inside the sandbox they are read-only, so a kernel cannot cache what it
    compiles: without this every kernel compiled them again at start. (The
    environment's own packages got their bytecode when pip installed them.)
    Once per process; a folder that cannot be written is left as it is.
    """
    import compileall

    site = {str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix)}
    for folder in _python_dirs(list(packages)):
        if str(folder) in site or not folder.is_dir():
            continue
        try:
            compileall.compile_dir(str(folder), quiet=2, workers=1)
        except OSError:
            pass


def _trusted_package_dir() -> Path:
    """The whole ``grader`` package (hidden checks, gradebook code), found by its name: this module
    lives in a sub-package of it."""
    import importlib.util

    spec = importlib.util.find_spec("grader")
    assert spec is not None and spec.submodule_search_locations, "the grader package has no folder"
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def _ancestors(paths: list[Path]) -> list[str]:
    found = {str(a) for p in paths for a in PurePosixPath(p).parents if str(a) != "/"}
    return sorted(found, key=lambda s: (s.count("/"), s))


def _copy_view(source: Path, dest: Path, *, max_file: int, max_total: int, hide: set[str]) -> list[str]:
    """Regular files of ``source`` (no links, no devices) copied world-readable into ``dest``.

    Returns what was left out and why. ``hide`` holds relative paths never copied.
    """
    skipped: list[str] = []
    total = 0
    dest.mkdir(mode=0o755, parents=True, exist_ok=True)
    for root, dirnames, filenames in os.walk(source, followlinks=False):
        rel_root = Path(root).relative_to(source)
        for name in sorted(dirnames):
            path = Path(root) / name
            if path.is_symlink():
                skipped.append(f"{rel_root / name}: a symbolic link")
                dirnames.remove(name)
        for name in sorted(filenames):
            path = Path(root) / name
            rel = (rel_root / name).as_posix()
            if rel in hide:
                continue
            if path.is_symlink() or not path.is_file():
                skipped.append(f"{rel}: not a regular file")
                continue
            size = path.stat().st_size
            if size > max_file or total + size > max_total:
                skipped.append(f"{rel}: too large ({size} bytes)")
                continue
            target = dest / rel
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            shutil.copyfile(path, target, follow_symlinks=False)
            os.chmod(target, 0o644)
            total += size
    for root, dirnames, _ in os.walk(dest):
        for name in dirnames:
            os.chmod(Path(root) / name, 0o755)
    os.chmod(dest, 0o755)
    return skipped


_LAUNCHER = r"""
import json, os, resource, shutil, sys
cfg = json.load(open(sys.argv[1]))
uid = cfg["uid"]
if uid is not None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
for name, value in cfg["rlimits"]:
    resource.setrlimit(getattr(resource, name), (value, value))
os.umask(0o022)
if cfg["submission"]:
    shutil.copytree(cfg["submission"], cfg["work"], dirs_exist_ok=True)
os.makedirs(cfg["work"], exist_ok=True)
if cfg["mpl"] and os.path.isdir(cfg["mpl"]):
    shutil.copytree(cfg["mpl"], cfg["mplconfigdir"], dirs_exist_ok=True)
os.chdir(cfg["work"])
argv = cfg["stage2"] + sys.argv[2:]
os.execv(argv[0], argv)
"""


class SandboxRun:
    """One sandbox: its host-side temporary folder, command line, process and watchdog."""

    def __init__(self, limits: Sandbox, submission: Path | None, *, hide: set[str] | None = None,
                 log: Any = None) -> None:
        self.limits = limits
        self.log = log
        self.tmp = Path(tempfile.mkdtemp(prefix="grader-sandbox-"))
        os.chmod(self.tmp, 0o700)
        self.skipped: list[str] = []
        self.view: Path | None = None
        if submission is not None:
            self.view = self.tmp / "submission"
            self.skipped = _copy_view(Path(submission), self.view, max_file=limits.file_mb << 20,
                                      max_total=max(1, limits.work_mb // 2) << 20, hide=hide or set())
        self.root_mode = os.geteuid() == 0
        self.uid = 1_000_000_000 + secrets.randbelow(1_000_000_000) if self.root_mode else None
        self.bwrap = shutil.which(limits.bwrap) or limits.bwrap
        self.pass_fds: tuple[int, ...] = ()
        self.process: subprocess.Popen | None = None
        self.child_pid: int | None = None
        self.pid_namespace: str | None = None
        self.kill_reason: str | None = None
        self.deadline: float | None = None
        self._stderr: list[bytes] = []
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None

    # -------------------------------------------------------------- command line

    def _write(self, name: str, text: str) -> Path:
        path = self.tmp / name
        path.write_text(text, encoding="utf-8")
        os.chmod(path, 0o644)
        return path

    def _mpl_cache(self) -> Path | None:
        """A copy of the grader's matplotlib font list, so kernels do not rebuild it (seconds each)."""
        try:
            import matplotlib
            from matplotlib import font_manager  # noqa: F401 (builds the cache if missing)

            cache = Path(matplotlib.get_cachedir())
        except Exception:
            return None
        lists = sorted(cache.glob("fontlist-*.json"))
        if not lists:
            return None
        dest = self.tmp / "mpl"
        dest.mkdir(mode=0o755)
        for item in lists:
            shutil.copyfile(item, dest / item.name)
            os.chmod(dest / item.name, 0o644)
        return dest

    def _stage2(self) -> list[str]:
        """A second, unprivileged bwrap that only forbids new user namespaces (root mode only)."""
        if not self.root_mode or "--disable-userns" not in _bwrap_help(self.bwrap):
            return []
        uid = str(self.uid)
        # --dev-bind: a plain --bind would mount it nodev, and /dev/null would stop working
        return [self.bwrap, "--unshare-user", "--disable-userns", "--uid", uid, "--gid", uid,
                "--dev-bind", "/", "/", "--die-with-parent", "--chdir", WORK, "--"]

    def command(self, kernel_argv: list[str], *, kernel_connection: dict | None = None) -> list[str]:
        limits = self.limits
        mib = 1 << 20
        mpl = self._mpl_cache()
        launch = {
            "uid": self.uid,
            "rlimits": limits.rlimits(),
            "submission": f"{RUN}/submission" if self.view is not None else None,
            "work": WORK,
            "mpl": f"{RUN}/mpl" if mpl else None,
            "mplconfigdir": _MPL_DIR,
            "stage2": self._stage2(),
        }
        launch_file = self._write("launch.json", json.dumps(launch))
        uid = self.uid if self.uid is not None else os.getuid()
        passwd = self._write("passwd", f"root:x:0:0:root:/root:/usr/sbin/nologin\n"
                                       f"student:x:{uid}:{uid}:student:{HOME}:/usr/sbin/nologin\n"
                                       "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
        group = self._write("group", f"root:x:0:\nstudent:x:{uid}:\nnogroup:x:65534:\n")

        args = [self.bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--hostname", "grader", "--die-with-parent", "--new-session"]
        if self.root_mode:
            # bwrap runs privileged (no user namespace), so the launcher can switch to a uid that
            # is not root: RLIMIT_NPROC is never enforced for root.
            args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        else:
            args += ["--unshare-user"]
            if "--disable-userns" in _bwrap_help(self.bwrap):
                args += ["--disable-userns"]
        python = _python_dirs(list(limits.packages))
        _check_visible(python)
        precompile(tuple(limits.packages))
        # The private file systems first: a later mount hides whatever an earlier one put at or
        # below the same path, and a clone or venv under /tmp (CI, scratch checkouts) must stay
        # visible on top of the sandbox's own empty /tmp.
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--perms", "1777", "--size", str(limits.tmp_mb * mib), "--tmpfs", "/dev/shm",
                 "--perms", "1777", "--size", str(limits.tmp_mb * mib), "--tmpfs", "/tmp",
                 "--perms", "0755", "--dir", "/home",
                 "--perms", "0777", "--size", str(limits.work_mb * mib), "--tmpfs", HOME]
        # bwrap would create missing parent folders readable by root only
        for ancestor in ["/etc", "/run"] + [a for a in _ancestors(python) if a not in ("/etc", "/home", "/run")]:
            args += ["--perms", "0755", "--dir", ancestor]
        args += _host_layout_args()
        args += ["--ro-bind", str(passwd), "/etc/passwd", "--ro-bind", str(group), "/etc/group"]
        for folder in python:
            args += ["--ro-bind", str(folder), str(folder)]
        trusted = _trusted_package_dir()
        for folder in python:
            if folder == trusted or folder in trusted.parents:
                # the grader package (and its hidden checks) must not be readable by students' code
                args += ["--perms", "0000", "--tmpfs", str(trusted), "--remount-ro", str(trusted)]
                break
        args += ["--perms", "0755", "--dir", RUN,
                 "--perms", "0777", "--size", str(1 * mib), "--tmpfs", IPC_DIR,
                 "--ro-bind", str(launch_file), f"{RUN}/launch.json"]
        if self.view is not None:
            args += ["--ro-bind", str(self.view), f"{RUN}/submission"]
        if mpl:
            args += ["--ro-bind", str(mpl), f"{RUN}/mpl"]
        if kernel_connection is not None:
            conn = self._write("kernel.json", json.dumps(kernel_connection))
            args += ["--ro-bind", str(conn), KERNEL_CONNECTION]
        venv_bin = str(Path(sys.prefix) / "bin")
        env = {
            "HOME": HOME, "USER": "student", "LOGNAME": "student", "TMPDIR": "/tmp",
            "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8", "MPLCONFIGDIR": _MPL_DIR,
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "JUPYTER_PLATFORM_DIRS": "1",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            # glibc reserves 64 MiB of address space per thread arena: a dozen kernel threads
            # would spend most of RLIMIT_AS before the student allocates anything
            "MALLOC_ARENA_MAX": "2",
        }
        args += ["--clearenv"]
        for key, value in env.items():
            args += ["--setenv", key, value]
        args += ["--chdir", "/", "--", sys.executable, "-I", "-S", "-c", _LAUNCHER, f"{RUN}/launch.json",
                 *kernel_argv]
        return args

    # -------------------------------------------------------------- running

    def launch(self, cmd: list[str], *, deadline: float | None = None) -> subprocess.Popen:
        """Start ``cmd`` (from :meth:`command`); returns once the sandbox is set up."""
        read_fd, write_fd = os.pipe()
        info_cmd = cmd[:1] + ["--info-fd", str(write_fd)] + cmd[1:]
        try:
            self.process = subprocess.Popen(
                info_cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                pass_fds=(write_fd,), cwd=self.tmp, start_new_session=True, close_fds=True)
        finally:
            os.close(write_fd)
        self._drainer = threading.Thread(target=self._drain, args=(self.process.stderr,), daemon=True)
        self._drainer.start()
        info = b""
        with os.fdopen(read_fd, "rb") as pipe:
            # bwrap writes its JSON once the namespaces exist, then closes the fd when it execs
            info = pipe.read(65536)
        try:
            data = json.loads(info.decode()) if info.strip() else {}
        except ValueError:
            data = {}
        if "child-pid" not in data:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
            # bwrap has exited, but its last words may still sit in the pipe: read them first
            self._drainer.join(timeout=5)
            tail = self.stderr_tail()
            raise SandboxError(f"the sandbox did not start: {tail or 'no message from bwrap'} "
                               f"({start_failure_cause(tail)})")
        self.child_pid = int(data["child-pid"])
        self.pid_namespace = f"pid:[{data['pid-namespace']}]" if "pid-namespace" in data else None
        self.deadline = deadline
        self._watchdog = threading.Thread(target=self._watch, daemon=True)
        self._watchdog.start()
        return self.process

    def host_path(self, inside: str) -> str:
        """Where the grader reaches a path of the sandbox's file system."""
        return f"/proc/{self.child_pid}/root{inside}"

    def _drain(self, stream) -> None:
        kept = 0
        for chunk in iter(lambda: stream.read(4096), b""):
            if kept < 16384:
                self._stderr.append(chunk)
                kept += len(chunk)
        stream.close()

    def stderr_tail(self) -> str:
        text = b"".join(self._stderr).decode("utf-8", "replace").strip()
        return text[-2000:]

    def _pids(self) -> list[int]:
        """Host pids of every process in the sandbox's PID namespace."""
        if self.pid_namespace is None:
            return [self.child_pid] if self.child_pid else []
        pids = []
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                if os.readlink(f"/proc/{entry.name}/ns/pid") == self.pid_namespace:
                    pids.append(int(entry.name))
            except OSError:
                continue
        return pids

    def resident_bytes(self) -> int:
        total = 0
        for pid in self._pids():
            try:
                with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
                    for line in f:
                        if line.startswith(b"Pss:"):
                            total += int(line.split()[1]) * 1024
                            break
            except (OSError, ValueError, IndexError):
                continue
        return total

    def _watch(self) -> None:
        limit = self.limits.memory_mb << 20
        while not self._stop.wait(0.25):
            if self.process is None or self.process.poll() is not None:
                return
            if self.deadline is not None and time.monotonic() > self.deadline:
                self.kill("time")
                return
            if self.resident_bytes() > limit:
                self.kill("memory")
                return

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self, reason: str | None = None) -> None:
        """SIGKILL the sandbox: the outer bwrap's process group and every process of its PID namespace."""
        if reason and self.kill_reason is None:
            self.kill_reason = reason
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except OSError:
                pass
        for pid in self._pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.process is not None:
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def cleanup(self) -> None:
        self._stop.set()
        if self.process is not None:
            self.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


# ------------------------------------------------------------------ jupyter_client glue


class SandboxProvisioner(LocalProvisioner):
    """Launches the kernel command inside a :class:`SandboxRun` instead of as a plain subprocess.

    The kernel command is always this interpreter's ``ipykernel_launcher``: the
    kernelspec named by the (student-supplied) notebook is ignored.
    """

    run: SandboxRun | None = None

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        km = self.parent
        extra = list(kwargs.pop("extra_arguments", []) or [])
        cwd = kwargs.pop("cwd", None)
        kwargs.pop("env", None)
        self.run = SandboxRun(km.limits, Path(cwd) if cwd else None, hide=set(km.hide), log=km.log)
        km.transport = "ipc"
        km.connection_file = str(self.run.tmp / "connection.json")
        km.ip = str(self.run.tmp / "ipc-placeholder")   # ports are picked so f"{ip}-{port}" is free
        km.write_connection_file()
        self.connection_info = km.get_connection_info()
        inside = dict(self.connection_info)
        inside["ip"] = f"{IPC_DIR}/kernel"
        inside["key"] = inside["key"].decode() if isinstance(inside["key"], bytes) else inside["key"]
        inside = {k: v for k, v in inside.items() if isinstance(v, str | int | float | bool) or v is None}
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", KERNEL_CONNECTION, *extra]
        cmd = self.run.command(argv, kernel_connection=inside)
        return {"cmd": cmd, **kwargs}

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        assert self.run is not None
        km = self.parent
        try:
            self.process = self.run.launch(cmd, deadline=km.deadline)
        except BaseException:
            self.run.cleanup()   # nbclient does not clean up a kernel that never started
            raise
        self.pid = self.process.pid
        self.pgid = self.process.pid
        info = dict(self.connection_info)
        info["ip"] = self.run.host_path(f"{IPC_DIR}/kernel")
        self.connection_info = info
        return info

    async def kill(self, restart: bool = False) -> None:
        if self.run is not None:
            self.run.kill()

    async def terminate(self, restart: bool = False) -> None:
        if self.run is not None:
            self.run.kill()

    async def send_signal(self, signum: int) -> None:
        # Interrupts are not forwarded into the sandbox: a cell that runs too long is killed.
        if signum in (signal.SIGKILL, signal.SIGTERM) and self.run is not None:
            self.run.kill()

    async def cleanup(self, restart: bool = False) -> None:
        if self.run is not None:
            self.run.cleanup()


class SandboxKernelManager(AsyncKernelManager):
    """An ``AsyncKernelManager`` whose kernel runs in a bubblewrap sandbox (IPC transport).

    Set ``limits`` (a :class:`Sandbox`), ``deadline`` (``time.monotonic()`` value)
    and ``hide`` (relative paths of the notebook folder not to show the kernel)
    before starting it.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.transport = "ipc"
        self.limits = Sandbox(parent=self)
        self.deadline: float | None = None
        self.hide: set[str] = set()
        self.started_ahead = False   # started before its notebook (see adopt): its client's start is a no-op

    @property
    def sandbox(self) -> SandboxRun | None:
        return getattr(self.provisioner, "run", None)

    async def start_kernel(self, **kw: Any) -> None:
        if self.started_ahead:
            self.started_ahead = False
            return
        await super().start_kernel(**kw)

    def adopt(self, deadline: float) -> None:
        """A kernel started ahead becomes its notebook's: its wall-clock limit starts counting now."""
        self.deadline = deadline
        if self.sandbox is not None:
            self.sandbox.deadline = deadline

    async def _async_pre_start_kernel(self, **kw: Any):
        import uuid

        self.shutting_down = False
        self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
        self._launch_args = kw.copy()
        if self.provisioner is None:
            self.provisioner = SandboxProvisioner(kernel_id=self.kernel_id, kernel_spec=None, parent=self)
        kw = await self.provisioner.pre_launch(**kw)
        kernel_cmd = kw.pop("cmd")
        return kernel_cmd, kw

    async def _async_interrupt_kernel(self) -> None:
        """No interrupts reach a sandboxed kernel (a student can ignore SIGINT anyway): a cell over
        its time limit is killed, and shutdown kills."""
