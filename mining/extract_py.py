"""Python message-format extractor (ast first, then a py2 shim, then regex).

Each extractor returns a list of records ``(level, kind, format, line)`` where
``format`` has its placeholders normalized to ``{}``.  Stdlib only.
"""
import ast
import re

PH = "\x00"  # internal placeholder marker, rendered as {} at the end

LEVEL_RANK = {"error": 5, "warning": 4, "info": 3, "verbose": 2, "debug": 1}

# method / function name -> level (None: level comes from an argument)
LOG_METHODS = {
    "error": "error", "exception": "error", "critical": "error", "fatal": "error",
    "warn": "warning", "warning": "warning",
    "info": "info", "log": "info", "Log": "info",
    "verbose": "verbose", "LogIfVerbose": "verbose", "debug": "debug",
    "Error": "error", "Warn": "warning", "Warning": "warning",
    "ErrorWithPrefix": "error", "WarnWithPrefix": "warning", "LogWithPrefix": "info",
    "LogWithPrefixIfVerbose": "verbose", "LogToFile": "info", "LogToCon": "info",
    "periodic": "info", "periodic_info": "info", "periodic_warn": "warning",
    "periodic_error": "error", "periodic_verbose": "verbose",
    "log_and_syslog": None, "log_error": "error", "log_warning": "warning",
    "log_info": "info", "error_log": "error", "warn_log": "warning",
    "LogError": "error", "LogWarning": "warning", "LogInfo": "info",
}
# bare function names accepted as loggers (waagent single file, Utils helpers)
BARE_LOG_FUNCS = {"Log", "Error", "Warn", "LogIfVerbose", "ErrorWithPrefix",
                  "LogWithPrefix", "LogWithPrefixIfVerbose", "log", "error",
                  "warn", "warning", "log_error", "log_warning", "log_info"}
EVENT_FUNCS = {"add_event": 5, "add_periodic": 6, "AddExtensionEvent": 5,
               "report_event": 2, "add_log_event": 1}
NOT_RECEIVERS = {"math", "np", "numpy", "cmath", "os", "re", "self.assertTrue"}
STR_FUNCS = {"str", "ustr", "repr", "text", "unicode", "format_exception",
             "textutil.format_exception", "traceback.format_exc", "type", "int",
             "len", "hex", "float"}

_pct = re.compile(r"%(\([^)]*\))?[-#0 +]*(\d+|\*)?(\.(\d+|\*))?[hlL]?[sdrifxXeEgGcou]|%%")
_brace = re.compile(r"\{\{|\}\}|\{[^{}]*\}")


def norm_percent(s):
    return _pct.sub(lambda m: "%" if m.group(0) == "%%" else PH, s)


def norm_brace(s):
    def r(m):
        t = m.group(0)
        if t == "{{":
            return "{"
        if t == "}}":
            return "}"
        return PH
    return _brace.sub(r, s)


def finish(text, maxlen=400):
    """Render internal text to the published format; None if not a message."""
    if text is None:
        return None
    t = re.sub(r"\s+", " ", text).strip()
    lit = t.replace(PH, "")
    if len(re.findall(r"[A-Za-z]", lit)) < 3:
        return None
    t = t.replace(PH, "{}")
    if len(t) > maxlen:
        t = t[:maxlen] + "..."
    return t


def _dotted(node):
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if isinstance(node, ast.Call):
        inner = _dotted(node.func)
        parts.append((inner or "?") + "()")
        return ".".join(reversed(parts))
    return None


def _const_str(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        v = node.value
        return v.decode("utf-8", "replace") if isinstance(v, bytes) else v
    if hasattr(ast, "Str") and type(node).__name__ == "Str":  # pragma: no cover
        return node.s
    return None


class Renderer:
    """Renders an expression to message text with PH placeholders."""

    def __init__(self, resolve):
        self.resolve = resolve  # (name, lineno) -> text or None

    def render(self, node, lineno, depth=0):
        if depth > 6:
            return PH
        s = _const_str(node)
        if s is not None:
            return s
        if isinstance(node, ast.JoinedStr):
            out = []
            for v in node.values:
                c = _const_str(v)
                out.append(c if c is not None else PH)
            return "".join(out)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Add):
                return self.render(node.left, lineno, depth + 1) + self.render(node.right, lineno, depth + 1)
            if isinstance(node.op, ast.Mod):
                left = self.render(node.left, lineno, depth + 1)
                return norm_percent(left)
            return PH
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr == "format":
                base = self.render(f.value, lineno, depth + 1)
                return norm_brace(base) if base != PH else PH
            if isinstance(f, ast.Attribute) and f.attr in ("strip", "rstrip", "lstrip", "encode", "decode", "lower", "upper") :
                return self.render(f.value, lineno, depth + 1)
            if isinstance(f, ast.Name) and f.id in ("_", "ustr", "str", "unicode") and node.args:
                inner = self.render(node.args[0], lineno, depth + 1)
                return inner
            return PH
        if isinstance(node, ast.Name):
            r = self.resolve(node.id, lineno)
            return r if r is not None else PH
        if isinstance(node, ast.IfExp):
            return self.render(node.body, lineno, depth + 1)
        return PH


def _scopes(tree):
    """Map each function/module scope to its string assignments."""
    scope_of = {}
    assigns = {}  # scope id -> name -> [(lineno, value_node)]

    def visit(node, scope):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                scope_of[id(child)] = id(child)
                visit(child, id(child))
                continue
            scope_of[id(child)] = scope
            if isinstance(child, ast.Assign) and len(child.targets) == 1 and isinstance(child.targets[0], ast.Name):
                assigns.setdefault(scope, {}).setdefault(child.targets[0].id, []).append((child.lineno, child.value))
            elif isinstance(child, ast.AugAssign) and isinstance(child.target, ast.Name) and isinstance(child.op, ast.Add):
                assigns.setdefault(scope, {}).setdefault(child.target.id, []).append((child.lineno, ("+=", child.value)))
            visit(child, scope)
    scope_of[id(tree)] = id(tree)
    visit(tree, id(tree))
    return scope_of, assigns


def extract_ast(tree):
    recs = []
    scope_of, assigns = _scopes(tree)
    module_scope = id(tree)
    cur = {"scope": module_scope}
    renderer = None

    def resolve(name, lineno, _seen=set()):
        for sc in (cur["scope"], module_scope):
            lst = assigns.get(sc, {}).get(name)
            if not lst:
                continue
            cands = [a for a in lst if a[0] <= lineno] or (lst if sc == module_scope else [])
            if not cands:
                continue
            ln, val = cands[-1]
            key = (name, ln)
            if key in _seen:
                return None
            _seen.add(key)
            try:
                if isinstance(val, tuple):  # x += "..." : render the base and append
                    base = [a for a in lst if a[0] < ln and not isinstance(a[1], tuple)]
                    b = renderer.render(base[-1][1], base[-1][0]) if base else PH
                    return b + renderer.render(val[1], ln)
                return renderer.render(val, ln)
            finally:
                _seen.discard(key)
        return None

    renderer = Renderer(resolve)

    def msg_of(node, idx=None, kw=("message", "msg", "msg_format")):
        for k in node.keywords:
            if k.arg in kw:
                return renderer.render(k.value, node.lineno)
        if idx is not None:
            if len(node.args) > idx and not isinstance(node.args[idx], ast.Starred):
                return renderer.render(node.args[idx], node.lineno)
            return None
        for a in node.args:
            if isinstance(a, ast.Starred):
                break
            t = renderer.render(a, node.lineno)
            if t and finish(t):
                return t
        return None

    def add(level, kind, text, line, fmt_args=False):
        if text is None:
            return
        if fmt_args:
            text = norm_brace(text) if "{" in text else norm_percent(text)
        f = finish(text)
        if f:
            recs.append((level, kind, f, line))

    def level_from(node, default):
        cands = [k.value for k in node.keywords if k.arg == "level"] + list(node.args[1:])
        for c in cands:
            s = _const_str(c)
            if s is None and isinstance(c, ast.Attribute):
                s = c.attr
            if s:
                sl = s.lower()
                if sl.startswith("err") or sl in ("fatal", "critical"):
                    return "error"
                if sl.startswith("warn"):
                    return "warning"
                if sl.startswith("verb"):
                    return "verbose"
                if sl == "debug":
                    return "debug"
                if sl == "info":
                    return "info"
        return default

    def exc_name(call):
        n = _dotted(call.func) or ""
        last = n.split(".")[-1]
        if last == "Error":  # waagent/hutil-style Error(msg) logging function
            return None
        if last.endswith(("Error", "Exception", "Failure")):
            return last
        return None

    class V(ast.NodeVisitor):
        def generic_visit(self, node):
            prev = cur["scope"]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                cur["scope"] = id(node)
            ast.NodeVisitor.generic_visit(self, node)
            cur["scope"] = prev

        def visit_FunctionDef(self, node):
            self.generic_visit(node)
        visit_AsyncFunctionDef = visit_FunctionDef

        def visit_ClassDef(self, node):
            if re.search(r"(error|exit)|codes?$", node.name, re.I):
                for st in node.body:
                    if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
                        v = _int_value(st.value)
                        if v is not None:
                            recs.append(("error" if v != 0 else "info", "exit_code_const",
                                         "%s.%s = %d" % (node.name, st.targets[0].id, v), st.lineno))
            self.generic_visit(node)

        def visit_Call(self, node):
            try:
                self._call(node)
            finally:
                self.generic_visit(node)

        def _call(self, node):
            f = node.func
            name = None
            recv = None
            if isinstance(f, ast.Attribute):
                name = f.attr
                recv = _dotted(f.value)
            elif isinstance(f, ast.Name):
                name = f.id
            if name is None:
                return
            if name in EVENT_FUNCS:
                text = msg_of(node, EVENT_FUNCS[name], kw=("message",))
                succ = None
                for k in node.keywords:
                    if k.arg in ("is_success", "isSuccess"):
                        succ = k.value
                if succ is None:
                    pos = {"add_event": 2, "AddExtensionEvent": 2, "add_periodic": 3, "report_event": 1}.get(name)
                    if pos is not None and len(node.args) > pos:
                        succ = node.args[pos]
                lvl = "error" if isinstance(succ, ast.Constant) and succ.value is False else "info"
                add(lvl, "event", text, node.lineno)
                return
            if name == "do_exit":
                text = msg_of(node, 4, kw=("message",))
                code = node.args[0] if node.args else None
                status = _const_str(node.args[2]) if len(node.args) > 2 else None
                ok = (isinstance(code, ast.Constant) and code.value == 0) or (status or "").lower() in ("success", "transitioning")
                add("info" if ok else "error", "exit", text, node.lineno)
                return
            if name == "do_status_report":
                text = msg_of(node, 3, kw=("message",))
                status = (_const_str(node.args[1]) if len(node.args) > 1 else "") or ""
                lvl = "error" if status.lower() in ("error", "failed") else ("warning" if status.lower() == "warning" else "info")
                add(lvl, "status", text, node.lineno)
                return
            en = exc_name(node)
            if en:
                text = msg_of(node, 0, kw=("msg", "message"))
                if text is None and node.args:
                    text = None
                add("error", "exception", text, node.lineno, fmt_args=False)
                return
            if name in LOG_METHODS and (isinstance(f, ast.Attribute) or name in BARE_LOG_FUNCS):
                if recv in NOT_RECEIVERS:
                    return
                lvl = LOG_METHODS[name]
                if name == "log_and_syslog":
                    lvl = level_from(type("N", (), {"keywords": [], "args": [None] + node.args[:1]})(), "info")
                    text = msg_of(node, 1)
                elif "WithPrefix" in name:
                    text = msg_of(node, 1)
                elif name in ("periodic", "periodic_info", "periodic_warn", "periodic_error", "periodic_verbose"):
                    text = msg_of(node, 1)
                elif name == "log" and node.args and isinstance(node.args[0], ast.Attribute) and _dotted(node.args[0]) and "LogLevel" in _dotted(node.args[0]):
                    lvl = level_from(type("N", (), {"keywords": [], "args": [None, node.args[0]]})(), "info")
                    text = msg_of(node, 1)
                else:
                    text = msg_of(node, 0)
                    if name in ("log", "Log", "info", "error", "warn", "warning"):
                        lvl = level_from(node, lvl)
                nargs = len(node.args)
                msg_idx = 1 if (name.startswith("periodic") or "WithPrefix" in name or name == "log_and_syslog") else 0
                add(lvl, "logger", text, node.lineno, fmt_args=nargs > msg_idx + 1)

    V().visit(tree)
    # module-level exit-code constants
    for st in tree.body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1 and isinstance(st.targets[0], ast.Name):
            n = st.targets[0].id
            if re.search(r"(error|exit|fail)", n, re.I) and n[:1].isupper() or re.search(r"(ErrorCode|ExitCode|EXIT_CODE|ERROR_CODE)", n):
                v = _int_value(st.value)
                if v is not None:
                    recs.append(("error" if v != 0 else "info", "exit_code_const", "%s = %d" % (n, v), st.lineno))
    return recs


def _int_value(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _int_value(node.operand)
        return -v if v is not None else None
    return None


# ---------------------------------------------------------------- py2 shim
_quote_re = re.compile(r"""(['"])""")


def _outside_strings(line, pos):
    return line[:pos].count('"') % 2 == 0 and line[:pos].count("'") % 2 == 0


def py2_shim(src):
    """Line-preserving rewrite of common Python 2 syntax to Python 3."""
    out = []
    for line in src.split("\n"):
        m = re.match(r"^([ \t]*)", line)
        ind = m.group(1)
        if "\t" in ind:
            line = ind.expandtabs(8) + line[len(ind):]
        line = re.sub(r"\bexcept\s+([\w.]+|\([^)]*\))\s*,\s*(\w+)\s*:", r"except \1 as \2:", line)
        m = re.match(r"^(\s*)print\b(?!\s*[=.\[(])\s*(>>\s*[^,]+,?\s*)?(.*)$", line)
        if m:  # print statement -> assignment (keeps line continuations valid)
            line = "%sprint_ = %s" % (m.group(1), m.group(3) if m.group(3).strip() else "None")
        line = re.sub(r"\basync\b(?!\s+(def|with|for)\b)", "async_", line)
        m = re.match(r"^(\s*)raise\s+([\w.]+)\s*,\s*(.+?)\s*$", line)
        if m:
            line = "%sraise %s(%s)" % (m.group(1), m.group(2), m.group(3))
        line = re.sub(r"\b[uU][rR](['\"])", r"r\1", line)
        line = re.sub(r"<>", "!=", line)

        def octal(mm):
            return mm.group(0) if not _outside_strings(line, mm.start()) else "0o" + mm.group(1)
        line = re.sub(r"(?<![\w.])0([0-7]+)\b(?![.\w])", octal, line)
        line = re.sub(r"(?<![\w.])(\d+)[lL]\b", r"\1", line)
        line = re.sub(r"^(\s*)exec\s+([^(].*?)(\s+in\s+.*)?$", r"\1exec(\2)", line)
        line = re.sub(r"`([^`]*)`", r"repr(\1)", line)
        out.append(line)
    return "\n".join(out)


# ---------------------------------------------------------------- regex fallback
_str_lit = re.compile(r"""[rRuUbBfF]{0,2}("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')""")
_fb_call = re.compile(
    r"""(?:(?P<recv>[\w.]+)\.)?(?P<name>error|warn|warning|info|verbose|log|Log|Error|Warn|LogIfVerbose|periodic\w*|do_exit|do_status_report|add_event|AddExtensionEvent|report_event)\s*\(""")
_fb_raise = re.compile(r"""raise\s+(?P<exc>[\w.]*(?:Error|Exception|Failure))\s*[(,]""")


def extract_regex(src):
    recs = []
    for i, line in enumerate(src.split("\n"), 1):
        s = line.strip()
        if s.startswith("#"):
            continue
        m = _fb_raise.search(line)
        kind, lvl = None, None
        if m:
            kind, lvl, start = "exception", "error", m.end()
        else:
            m = _fb_call.search(line)
            if not m:
                continue
            name = m.group("name")
            if m.group("recv") is None and name not in BARE_LOG_FUNCS and name not in ("do_exit", "add_event", "AddExtensionEvent"):
                continue
            start = m.end()
            if name in ("add_event", "AddExtensionEvent", "report_event"):
                kind, lvl = "event", ("error" if re.search(r"is_?[sS]uccess\s*=\s*False", line) else "info")
            elif name == "do_exit":
                kind, lvl = "exit", ("info" if re.match(r"\s*0\s*,", line[start:]) else "error")
            elif name == "do_status_report":
                kind, lvl = "status", "info"
            else:
                kind, lvl = "logger", LOG_METHODS.get(name) or "info"
        rest = line[start:]
        lits = list(_str_lit.finditer(rest))
        if not lits:
            continue
        # join adjacent literals separated by '+' (with non-literal pieces as placeholders)
        text = ""
        pos = 0
        for j, lm in enumerate(lits):
            between = rest[pos:lm.start()]
            if j > 0:
                b = between.strip()
                if b not in ("+", ""):
                    if b.startswith("+") and b.endswith("+"):
                        text += PH
                    else:
                        break
            body = lm.group(1)[1:-1]
            prefix = lm.group(0)[:len(lm.group(0)) - len(lm.group(1))].lower()
            if "f" in prefix:
                body = norm_brace(body)
            text += body.replace("\\'", "'").replace('\\"', '"').replace("\\n", " ")
            pos = lm.end()
        tail = rest[pos:].lstrip()
        if tail.startswith("%"):
            text = norm_percent(text)
        elif tail.startswith(".format"):
            text = norm_brace(text)
        elif tail.startswith("+"):
            text += PH
        elif tail.startswith(",") and kind == "logger":
            text = norm_brace(text) if "{" in text else norm_percent(text)
        f = finish(text)
        if f:
            recs.append((lvl, kind, f, i))
    return recs


def extract_python(data):
    """Returns (records, method) where method is ast|py2shim|regex."""
    try:
        src = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        src = data.decode("latin-1")
    src = src.replace("\r\n", "\n").replace("\r", "\n")
    try:
        tree = ast.parse(src)
        return extract_ast(tree), "ast"
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    try:
        tree = ast.parse(py2_shim(src))
        return extract_ast(tree), "py2shim"
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    return extract_regex(src), "regex"
