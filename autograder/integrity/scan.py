"""Static scan of a submission's code cells for tampering with the grader.

Each code cell is turned into Python the way IPython does it (``!cmd`` and ``%magic`` lines
become ``get_ipython()`` calls), parsed, and compared with the cells the student notebook ships
(``shipped_cells.json``, which ``tools/build.py`` writes into the zip from the student notebook
it ships): a cell identical in AST to a shipped one is the scaffold and is not
scanned; every other cell is walked and each suspicious construct becomes a ``Finding``.

What a finding means is the policy's (``policy``): a note for the instructor, and for code that
reaches for the grader itself a place on the review list; never a score. Honest idioms that do
nothing to anyone but the student's own session are not findings at all: magics that only time,
show or configure (the policy's ``allowed_magics``; the Python a ``%%time``, ``%timeit`` or
``%%capture`` runs is scanned like any cell), ``IPython.display``, ``x.__class__.__name__``, and
strings that merely mention a grader path (a path counts where it is handed to a call). The scan
can be evaded by code built at run time; the boundary is isolation (``autograder.isolation``).
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from autograder.upstream import OTTER_GRADING_ATTRIBUTES, OTTER_GRADING_CLASSES

SHIPPED_CELLS = Path(__file__).with_name("shipped_cells.json")

# category -> what the student-visible output says
CATEGORIES = {
    "otter_internals": "touches Otter's grading internals",
    "grader_code": "imports or replaces the autograder's own code",
    "dynamic_code": "runs code built at run time or reaches into interpreter internals",
    "introspection": "uses reflection (getattr/globals/vars/dunder attributes) to reach hidden objects",
    "grader_files": "reads, writes or lists grader files (tests, rubrics, results, logs)",
    "filesystem": "explores or changes the file system",
    "processes": "starts processes or shell commands",
    "network": "opens network connections",
    "kernel_exit": "exits or shuts down the kernel",
    "kernel_access": "drives the IPython kernel directly (magics, shell escapes, get_ipython)",
    "serialization": "pickles objects (the grader never unpickles anything of the student's)",
}

# modules whose import alone is a finding
MODULE_CATEGORIES = {
    "otter": None,  # handled separately: `import otter` + otter.Notebook is the student API
    "autograder": "grader_code",
    "tests": "grader_code",
    "importlib": "dynamic_code",
    "builtins": "dynamic_code",
    "__builtin__": "dynamic_code",
    "ctypes": "dynamic_code",
    "marshal": "dynamic_code",
    "pickle": "serialization",
    "_pickle": "serialization",
    "dill": "serialization",
    "cloudpickle": "serialization",
    "shelve": "serialization",
    "runpy": "dynamic_code",
    "code": "dynamic_code",
    "codeop": "dynamic_code",
    "types": "introspection",
    "gc": "introspection",
    "inspect": "introspection",
    "traceback": None,
    "sys": None,  # handled by attribute
    "subprocess": "processes",
    "multiprocessing": "processes",
    "pty": "processes",
    "signal": "kernel_exit",
    "pexpect": "processes",
    "sh": "processes",
    "socket": "network",
    "ssl": "network",
    "http": "network",
    "urllib": "network",
    "urllib3": "network",
    "requests": "network",
    "httpx": "network",
    "ftplib": "network",
    "smtplib": "network",
    "telnetlib": "network",
    "xmlrpc": "network",
    "shutil": "filesystem",
    "glob": "filesystem",
    "tempfile": None,
    "fileinput": "filesystem",
    "zipfile": "filesystem",
    "tarfile": "filesystem",
    "jupyter_client": "kernel_access",
    "ipykernel": "kernel_access",
    "IPython": "kernel_access",
    "nbformat": "grader_files",
    "nbclient": "kernel_access",
    "nbconvert": "kernel_access",
}

OTTER_STUDENT_API = {"Notebook"}
GRADER_METHODS = {"check", "check_all", "export", "to_pdf", "submit"}  # grader.<these> only

BUILTIN_CALLS = {
    "exec": "dynamic_code",
    "eval": "dynamic_code",
    "compile": "dynamic_code",
    "__import__": "dynamic_code",
    "breakpoint": "dynamic_code",
    "globals": "introspection",
    "locals": "introspection",
    "vars": "introspection",
    "setattr": "introspection",
    "delattr": "introspection",
    "exit": "kernel_exit",
    "quit": "kernel_exit",
    "get_ipython": "kernel_access",
}

SYS_ATTRS = {
    "modules": "dynamic_code",
    "meta_path": "dynamic_code",
    "path_hooks": "dynamic_code",
    "path_importer_cache": "dynamic_code",
    "path": "dynamic_code",
    "settrace": "dynamic_code",
    "setprofile": "dynamic_code",
    "_getframe": "introspection",
    "_current_frames": "introspection",
    "exc_info": "introspection",
    "exception": "introspection",
    "last_traceback": "introspection",
    "exit": "kernel_exit",
    "excepthook": "dynamic_code",
    "displayhook": "dynamic_code",
    "addaudithook": "dynamic_code",
    "stdout": "introspection",
    "stderr": "introspection",
    "__stdout__": "introspection",
}

OS_ATTRS = {
    "system": "processes",
    "popen": "processes",
    "fork": "processes",
    "forkpty": "processes",
    "kill": "processes",
    "killpg": "processes",
    "posix_spawn": "processes",
    "posix_spawnp": "processes",
    "_exit": "kernel_exit",
    "abort": "kernel_exit",
    "remove": "filesystem",
    "unlink": "filesystem",
    "rmdir": "filesystem",
    "removedirs": "filesystem",
    "rename": "filesystem",
    "renames": "filesystem",
    "replace": "filesystem",
    "chdir": "filesystem",
    "chmod": "filesystem",
    "chown": "filesystem",
    "listdir": "filesystem",
    "scandir": "filesystem",
    "walk": "filesystem",
    "fwalk": "filesystem",
    "open": "filesystem",
    "write": "filesystem",
    "symlink": "filesystem",
    "link": "filesystem",
    "truncate": "filesystem",
    "utime": "filesystem",
    "mkdir": "filesystem",
    "makedirs": "filesystem",
}
OS_PREFIXES = {"exec": "processes", "spawn": "processes", "wait": "processes"}

# attribute names that are tampering wherever they appear
ATTR_CATEGORIES = {
    **dict.fromkeys([*OTTER_GRADING_CLASSES, *OTTER_GRADING_ATTRIBUTES], "otter_internals"),
    "require_concept": "grader_code",
    "check_computed": "grader_code",
    "system": "processes",
    "_exit": "kernel_exit",
    "do_shutdown": "kernel_exit",
    "kernel": "kernel_access",
    "f_globals": "introspection",
    "f_locals": "introspection",
    "f_back": "introspection",
    "f_builtins": "introspection",
    "gi_frame": "introspection",
    "cr_frame": "introspection",
    "tb_frame": "introspection",
    "tb_next": "introspection",
    "read_text": "filesystem",
    "read_bytes": "filesystem",
    "write_text": "filesystem",
    "write_bytes": "filesystem",
    "iterdir": "filesystem",
    "rglob": "filesystem",
    "unlink": "filesystem",
    "rmtree": "filesystem",
}
ALLOWED_DUNDER_ATTRS = {
    "__init__", "__name__", "__qualname__", "__doc__", "__version__", "__len__", "__repr__", "__str__", "__class__",
}
# magics whose argument (line) or body (cell) is Python they run: scanned as code
CODE_MAGICS = {"time", "timeit", "prun", "capture"}
# IPython's display helpers: showing output, nothing of the kernel's
DISPLAY_MODULES = {"IPython.display", "IPython.core.display"}
# calls whose string arguments are text shown to the student, not paths
TEXT_CALLS = {"print", "display", "Markdown", "HTML", "Latex", "pprint"}
MAX_EMBEDDED_DEPTH = 3  # %%time around %%capture around ...

# a grader path written out in full counts wherever it appears, even inside a longer string
ABSOLUTE_MARKERS = ("/autograder",)
# the others count in a call's arguments or as a string of their own (no spaces: a path, a module
# name), not in prose ("the tests/ folder", "as the rubric says")
GRADER_PATH_MARKERS = (
    "/autograder",
    "autograder/",
    "autograder.",
    "autograder\\",
    "tests/",
    "tests\\",
    ".otter_log",
    "otter_log",
    "results.json",
    "results.pkl",
    "rubric",
    "submission_metadata",
    "run_otter",
    "run_autograder",
    "otter_config",
    "source/files",
    ".pkl",
)


@dataclass(frozen=True)
class Finding:
    """A construct of the submission's code that the scan names (``CATEGORIES``), and where it is."""

    category: str
    cell: int  # index of the code cell in the submission notebook (0-based, all cells counted)
    line: int  # line in the cell (1-based, after IPython's transformation)
    detail: str  # what was found, in the grader's words (never student text)
    targets: tuple[str, ...] = field(default=())  # names assigned by the flagged statement

    def describe(self) -> str:
        """The finding in the instructor's log: cell, line, category and what was found (no student text)."""
        return f"cell {self.cell + 1}, line {self.line}: {CATEGORIES.get(self.category, self.category)} ({self.detail})"

    def to_dict(self) -> dict[str, Any]:
        """The finding as a JSON-ready dict of its fields."""
        return asdict(self)


def to_python(source: str) -> str:
    """The Python IPython runs for a cell's source (``!``/``%`` lines become ``get_ipython()`` calls)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except Exception:  # no IPython: the kernel could not run magics either
        return source
    try:
        return TransformerManager().transform_cell(source)
    except Exception:
        return source


def cell_digest(source: str) -> str | None:
    """A digest of the cell's AST (comments, blank lines and formatting do not count)."""
    try:
        tree = ast.parse(to_python(source))
    except SyntaxError:
        return None
    return hashlib.sha256(ast.dump(tree, annotate_fields=False).encode()).hexdigest()


def shipped_digests(notebook: Any) -> list[str]:
    """Digests of the code cells of the student notebook as distributed."""
    sources = (c["source"] for c in notebook["cells"] if c["cell_type"] == "code")
    digests = {cell_digest(s if isinstance(s, str) else "".join(s)) for s in sources}
    return sorted(d for d in digests if d)


def shipped_file(notebook: Any, source: str) -> str:
    """The content of ``shipped_cells.json`` for the student notebook ``notebook`` (named ``source``)."""
    return json.dumps({"source": source, "digests": shipped_digests(notebook)}, indent=1) + "\n"


def load_shipped(path: Path = SHIPPED_CELLS) -> set[str]:
    """The digests the build wrote into the zip; without them every scaffold cell would be flagged."""
    try:
        return set(json.loads(path.read_text(encoding="utf-8"))["digests"])
    except (OSError, ValueError, KeyError) as e:
        raise FileNotFoundError(
            f"{path} is missing or unreadable ({e}): it is written into the autograder zip by `make dist`;"
            " rebuild the zip"
        ) from None


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _targets(stmt: ast.stmt) -> tuple[str, ...]:
    names: list[str] = []
    targets: list[ast.AST] = []
    if isinstance(stmt, ast.Assign):
        targets = list(stmt.targets)
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
        targets = [stmt.target]
    for t in targets:
        for node in ast.walk(t):
            if isinstance(node, ast.Name):
                names.append(node.id)
    return tuple(names)


def _magic_name(name: str) -> str:
    """A magic's name as the grader reports it (letters, digits and _ only: it is the student's text)."""
    return re.sub(r"\W", "", name)[:40] or "?"


def _magic_line_code(line: str) -> str:
    """The Python statement of a ``%timeit``/``%time``/``%prun`` line, without the magic's options."""
    words = line.split()
    while words and words[0].startswith("-"):
        option = words.pop(0)
        if option in ("-n", "-r", "-p", "-s", "-T", "-D", "-l") and words:  # an option with a separate value
            words.pop(0)
    return " ".join(words)


class _Visitor(ast.NodeVisitor):
    def __init__(self, cell: int, allowed_magics: set[str], depth: int = 0):
        self.cell = cell
        self.allowed_magics = allowed_magics
        self.depth = depth
        self.findings: list[Finding] = []
        self.targets: tuple[str, ...] = ()
        self.aliases: dict[str, str] = {}  # local name -> module it stands for

    def add(self, node: ast.AST, category: str, detail: str) -> None:
        """Record a finding of ``category`` at ``node``'s line, with the names its statement assigns."""
        self.findings.append(Finding(category, self.cell, getattr(node, "lineno", 0), detail, self.targets))

    def visit_statements(self, tree: ast.Module) -> None:
        """Visit a cell's top-level statements, noting each one's assigned names for the findings in it."""
        for stmt in tree.body:
            self.targets = _targets(stmt)
            self.visit(stmt)

    # imports -----------------------------------------------------------------------------
    def _module(self, node: ast.AST, module: str, names: list[str] | None = None) -> None:
        top = module.split(".")[0]
        if module in DISPLAY_MODULES or (module == "IPython" and names is not None and set(names) <= {"display"}):
            return
        if top == "otter":
            if module != "otter" or (names is not None and set(names) - OTTER_STUDENT_API):
                self.add(node, "otter_internals", f"imports {module}")
            return
        if top == "os" and names is not None:
            for n in names:
                self._os_attr(node, n)
            return
        if top == "sys" and names is not None:
            for n in names:
                if n in SYS_ATTRS:
                    self.add(node, SYS_ATTRS[n], f"imports sys.{n}")
            return
        if top == "builtins" or top == "__builtin__":
            self.add(node, "dynamic_code", "imports builtins")
            return
        category = MODULE_CATEGORIES.get(top)
        if category:
            self.add(node, category, f"imports {top}")

    def visit_Import(self, node: ast.Import) -> None:
        """Judge each imported module and remember the name it is bound to."""
        for alias in node.names:
            self._module(node, alias.name)
            self.aliases[alias.asname or alias.name.split(".")[0]] = (
                alias.name if alias.asname else alias.name.split(".")[0]
            )

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        """Flag a relative import; else judge the module and the names taken from it, and remember them."""
        if node.level:
            self.add(node, "grader_code", "relative import")
            return
        module = node.module or ""
        self._module(node, module, [a.name for a in node.names])
        for alias in node.names:
            self.aliases[alias.asname or alias.name] = f"{module}.{alias.name}"

    # names, attributes, calls --------------------------------------------------------------
    def _os_attr(self, node: ast.AST, attr: str) -> None:
        if attr in OS_ATTRS:
            self.add(node, OS_ATTRS[attr], f"os.{attr}")
        for prefix, category in OS_PREFIXES.items():
            if attr.startswith(prefix):
                self.add(node, category, f"os.{attr}")

    def visit_Name(self, node: ast.Name) -> None:
        """Flag a reference to ``exec``-like builtins (aliasing them is the usual evasion), ``exit``/``quit``,
        ``__builtins__`` and the like, the grader's package or Otter's grading classes.
        """
        if node.id in ("__builtins__", "__loader__", "__spec__"):
            self.add(node, "dynamic_code", node.id)
        elif node.id == "autograder":
            self.add(node, "grader_code", node.id)
        elif node.id in OTTER_GRADING_CLASSES:
            self.add(node, "otter_internals", node.id)
        elif node.id in BUILTIN_CALLS and node.id not in ("exit", "quit", "get_ipython"):
            # referencing exec/eval/... at all (aliasing them is the usual evasion)
            self.add(node, BUILTIN_CALLS[node.id], node.id)
        elif node.id in ("exit", "quit"):
            self.add(node, "kernel_exit", node.id)
        elif node.id == "get_ipython":
            pass  # judged where it is called (magics)
        elif node.id == "getattr":
            pass  # judged at the call
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        """Flag dunder and listed attributes, and attributes of ``os``, ``sys``, ``otter`` and ``grader``
        outside what a student needs; an alias is resolved to the module it stands for.
        """
        attr = node.attr
        base = _dotted(node.value)
        resolved = self.aliases.get(base.split(".")[0], base.split(".")[0]) if base else None
        if resolved is not None and base is not None and "." in base:
            resolved = resolved + base[len(base.split(".")[0]) :]
        if attr.startswith("__") and attr.endswith("__") and attr not in ALLOWED_DUNDER_ATTRS:
            self.add(node, "introspection", f"attribute {attr}")
        elif attr in ATTR_CATEGORIES:
            self.add(node, ATTR_CATEGORIES[attr], f"attribute {attr}")
        if resolved == "os":
            self._os_attr(node, attr)
        elif resolved == "sys" and attr in SYS_ATTRS:
            self.add(node, SYS_ATTRS[attr], f"sys.{attr}")
        elif resolved == "otter" and attr not in OTTER_STUDENT_API:
            self.add(node, "otter_internals", f"otter.{attr}")
        elif resolved == "grader" and attr not in GRADER_METHODS:
            self.add(node, "otter_internals", f"grader.{attr}")
        elif resolved in ("os.path",) and attr in ("walk",):
            self.add(node, "filesystem", f"os.path.{attr}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        """Judge ``getattr``/``hasattr`` as the attribute they name (a computed name is introspection),
        ``open`` by its mode, ``get_ipython()`` calls as magics, and grader paths in a call's arguments.
        """
        func = node.func
        name = func.id if isinstance(func, ast.Name) else None
        if name == "getattr" or name == "hasattr":
            if len(node.args) < 2 or not (
                isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
            ):
                self.add(node, "introspection", f"{name} with a computed name")
            else:
                attr = node.args[1].value
                fake = ast.Attribute(value=node.args[0], attr=attr, ctx=ast.Load())
                ast.copy_location(fake, node)
                self.visit_Attribute(fake)
        elif name == "open":
            self._open(node)
        elif name == "get_ipython" or (isinstance(func, ast.Attribute) and _dotted(func.value) == "get_ipython()"):
            pass
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            inner = func.value.func
            if isinstance(inner, ast.Name) and inner.id == "get_ipython":
                self._ipython_call(node, func.attr)
                # do not descend into get_ipython() itself: judged here
                for arg in node.args:
                    self.visit(arg)
                return
        if name == "get_ipython":
            self.add(node, "kernel_access", "get_ipython()")
        if name not in TEXT_CALLS and not (isinstance(func, ast.Attribute) and func.attr in TEXT_CALLS):
            self._paths(node)
        self.generic_visit(node)

    def _paths(self, node: ast.Call) -> None:
        """Grader paths handed to a call (``open("tests/q1.py")``, ``glob("/autograder/*")``, a shell line)."""
        for arg in [*node.args, *(kw.value for kw in node.keywords)]:
            for sub in ast.walk(arg):
                if isinstance(sub, ast.Constant):
                    self._grader_path(sub, in_call=True)

    def _grader_path(self, node: ast.Constant, in_call: bool) -> None:
        if not isinstance(node.value, (str, bytes)):
            return
        text = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
        low = text.lower()
        path_like = in_call or not any(c.isspace() for c in low.strip())
        for marker in GRADER_PATH_MARKERS if path_like else ABSOLUTE_MARKERS:
            if marker in low:
                self.add(node, "grader_files", f"names a grader path ({marker.strip('/.')})")
                return

    def visit_Constant(self, node: ast.Constant) -> None:
        """Flag a string that names a grader path even outside a call (a path stored in a variable first)."""
        self._grader_path(node, in_call=False)

    def _ipython_call(self, node: ast.Call, method: str) -> None:
        magic = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
        if method in ("run_line_magic", "run_cell_magic") and isinstance(magic, str):
            if magic in CODE_MAGICS:
                line = node.args[1].value if len(node.args) > 1 and isinstance(node.args[1], ast.Constant) else ""
                self._embedded(_magic_line_code(str(line)), node)
                if method == "run_cell_magic" and len(node.args) > 2 and isinstance(node.args[2], ast.Constant):
                    self._embedded(str(node.args[2].value), node)
            if magic not in self.allowed_magics:
                self.add(node, "kernel_access", f"magic %{_magic_name(magic)}")
            return
        if method in ("system", "getoutput"):
            self.add(node, "processes", "shell command (!)")
        elif method in ("run_line_magic", "run_cell_magic"):
            self.add(node, "kernel_access", "magic")
        else:
            self.add(node, "kernel_access", f"get_ipython().{method}")

    def _embedded(self, source: str, node: ast.Call) -> None:
        """Scan the Python a magic runs as if it were a cell (its lines counted from the magic's)."""
        if not source.strip():
            return
        if self.depth >= MAX_EMBEDDED_DEPTH:
            self.add(node, "dynamic_code", "magics nested too deep to scan")
            return
        try:
            tree = ast.parse(to_python(source))
        except SyntaxError:
            return
        inner = _Visitor(self.cell, self.allowed_magics, self.depth + 1)
        inner.aliases = dict(self.aliases)
        inner.visit_statements(tree)
        offset = getattr(node, "lineno", 1)
        for f in inner.findings:
            self.findings.append(Finding(f.category, f.cell, f.line + offset, f.detail, f.targets or self.targets))
        self.aliases.update(inner.aliases)

    def _open(self, node: ast.Call) -> None:
        mode = None
        if len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
            mode = node.args[1].value
        for kw in node.keywords:
            if kw.arg == "mode" and isinstance(kw.value, ast.Constant):
                mode = kw.value.value
        if len(node.args) >= 2 and mode is None or any(kw.arg == "mode" for kw in node.keywords) and mode is None:
            self.add(node, "filesystem", "open() with a computed mode")
        elif isinstance(mode, str) and any(c in mode for c in "wax+"):
            self.add(node, "filesystem", f"open() for writing ({mode!r})")
        if not node.args or not (isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            self.add(node, "filesystem", "open() of a computed path")

    def visit_Raise(self, node: ast.Raise) -> None:
        """Flag ``raise SystemExit`` / ``raise KeyboardInterrupt`` as an attempt to stop the run (``kernel_exit``)."""
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if isinstance(exc, ast.Name) and exc.id in ("SystemExit", "KeyboardInterrupt"):
            self.add(node, "kernel_exit", f"raise {exc.id}")
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        """Flag ``global __name__``-style declarations of dunder names."""
        for n in node.names:
            if n.startswith("__"):
                self.add(node, "introspection", f"global {n}")


def scan_source(source: str, cell: int = 0, allowed_magics: set[str] | None = None) -> list[Finding]:
    """Findings for one code cell's source (empty if it does not parse: such a cell never runs)."""
    try:
        tree = ast.parse(to_python(source))
    except SyntaxError:
        return []
    visitor = _Visitor(cell, set(allowed_magics or ()))
    visitor.visit_statements(tree)
    # one finding per (category, line): the same construct is often reported twice
    seen: set[tuple[str, int]] = set()
    unique = []
    for f in visitor.findings:
        if (f.category, f.line) not in seen:
            seen.add((f.category, f.line))
            unique.append(f)
    return unique


def scan_notebook(
    notebook: Any, shipped: set[str] | None = None, allowed_magics: set[str] | None = None
) -> list[Finding]:
    """Findings for every code cell of ``notebook`` that is not a cell the student notebook ships."""
    shipped = load_shipped() if shipped is None else shipped
    findings: list[Finding] = []
    for index, cell in enumerate(notebook["cells"]):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        if cell_digest(source) in shipped:
            continue
        findings += scan_source(source, index, allowed_magics)
    return findings


def main(argv: list[str] | None = None) -> int:
    """``python -m autograder.integrity.scan STUDENT_NOTEBOOK NOTEBOOK...``: print the findings of each
    NOTEBOOK, the cells of STUDENT_NOTEBOOK (the notebook as distributed) being the scaffold."""
    import sys

    import nbformat

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) < 2:
        print("usage: python -m autograder.integrity.scan STUDENT_NOTEBOOK NOTEBOOK...", file=sys.stderr)
        return 2
    shipped = set(shipped_digests(nbformat.read(argv[0], as_version=4)))
    status = 0
    for path in argv[1:]:
        for f in scan_notebook(nbformat.read(path, as_version=4), shipped):
            print(f"{path}: {f.describe()}")
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
