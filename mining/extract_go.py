"""Go message-format extractor: a small tokenizer plus call-pattern matching.

Returns records ``(level, kind, format, line)`` like extract_py.  Stdlib only.
"""
import re

from extract_py import PH, finish

_tok = re.compile(r"""
   (?P<ws>[ \t\r]+)
 | (?P<nl>\n)
 | (?P<lc>//[^\n]*)
 | (?P<bc>/\*.*?\*/)
 | (?P<raw>`[^`]*`)
 | (?P<str>"(?:\\.|[^"\\\n])*")
 | (?P<rune>'(?:\\.|[^'\\\n])*')
 | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
 | (?P<num>0[xX][0-9a-fA-F_]+|\d[\d_]*(?:\.\d+)?)
 | (?P<op>:=|\.\.\.|&&|\|\||<-|==|!=|<=|>=|[-+*/%&|^<>=!(){}\[\],;:.])
 | (?P<other>.)
""", re.S | re.X)

_esc = {"n": " ", "t": " ", "r": "", '"': '"', "\\": "\\", "'": "'"}


def tokenize(src):
    toks = []
    line = 1
    for m in _tok.finditer(src):
        k = m.lastgroup
        v = m.group(0)
        if k == "nl":
            toks.append(("nl", v, line))
            line += 1
            continue
        if k in ("ws", "lc"):
            continue
        if k == "bc":
            line += v.count("\n")
            continue
        if k == "str":
            s = re.sub(r"\\(.)", lambda mm: _esc.get(mm.group(1), "\\" + mm.group(1)), v[1:-1])
            toks.append(("str", s, line))
            continue
        if k == "raw":
            toks.append(("str", v[1:-1], line))
            line += v.count("\n")
            continue
        toks.append((k, v, line))
    return toks


_gopct = re.compile(r"%[-+# 0]*(\d+|\*)?(\.(\d+|\*))?[vTtbcdoOqxXUeEfFgGspw]|%%")


def norm_go(s):
    return _gopct.sub(lambda m: "%" if m.group(0) == "%%" else PH, s)


def split_args(toks, i):
    """toks[i] is '('. Returns (list of arg token lists, index after ')')."""
    depth = 0
    args, cur = [], []
    j = i
    while j < len(toks):
        t = toks[j]
        if t[0] == "nl":
            j += 1
            continue
        v = t[1]
        if t[0] == "op" and v in "([{":
            depth += 1
            if depth > 1:
                cur.append(t)
        elif t[0] == "op" and v in ")]}":
            depth -= 1
            if depth == 0:
                if cur:
                    args.append(cur)
                return args, j + 1
            cur.append(t)
        elif t[0] == "op" and v == "," and depth == 1:
            args.append(cur)
            cur = []
        else:
            cur.append(t)
        j += 1
    return args, j


def render(arg):
    """Render an argument's tokens to text: literals kept, other operands -> PH."""
    if not arg:
        return None
    # fmt.Sprintf("...", ...) / errors.New("...") nested
    if len(arg) >= 4 and arg[0][0] == "id" and arg[1][1] == "." and arg[2][0] == "id" and arg[3][1] == "(":
        fn = arg[2][1]
        if fn in ("Sprintf", "Errorf", "Sprint", "Sprintln", "New"):
            sub, _ = split_args(arg, 3)
            if sub:
                r = render(sub[0])
                return norm_go(r) if r is not None and fn in ("Sprintf", "Errorf") else r
    out = []
    depth = 0
    have_lit = False
    pending_ph = False
    for t in arg:
        if t[0] == "op" and t[1] in "([{":
            depth += 1
            continue
        if t[0] == "op" and t[1] in ")]}":
            depth -= 1
            continue
        if depth > 0:
            continue
        if t[0] == "str":
            if pending_ph:
                out.append(PH)
                pending_ph = False
            out.append(t[1])
            have_lit = True
        elif t[0] == "op" and t[1] == "+":
            continue
        else:
            pending_ph = True
    if pending_ph:
        out.append(PH)
    if not have_lit:
        return None
    return "".join(out)


LOG_LEVEL = {"Info": "info", "Infof": "info", "Infoln": "info", "Warn": "warning", "Warnf": "warning",
             "Warning": "warning", "Warningf": "warning", "Error": "error", "Errorf": "error",
             "Errorln": "error", "Debug": "debug", "Debugf": "debug", "Fatal": "error", "Fatalf": "error",
             "Panicf": "error", "Printf": "info", "Println": "info", "Print": "info", "Trace": "debug",
             "Tracef": "debug", "Verbose": "verbose", "Verbosef": "verbose"}
ERR_FUNCS = {("fmt", "Errorf"): 0, ("errors", "New"): 0, ("errors", "Errorf"): 0,
             ("errors", "Wrap"): 1, ("errors", "Wrapf"): 1, ("errors", "WithMessage"): 1,
             ("errors", "WithMessagef"): 1}
FAIL_WORDS = re.compile(r"\b(fail\w*|error\w*|unable|cannot|could not|can't|invalid|panic\w*)\b", re.I)


def extract_go(data, path=""):
    try:
        src = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        src = data.decode("latin-1")
    toks = tokenize(src)
    recs = []
    n = len(toks)
    path_errorish = bool(re.search(r"(error|exit|code)", path.rsplit("/", 1)[-1], re.I))

    def add(level, kind, text, line, printf=True):
        if text is None:
            return
        if printf:
            text = norm_go(text)
        f = finish(text)
        if f:
            recs.append((level, kind, f, line))

    i = 0
    while i < n:
        t = toks[i]
        # const blocks / single consts
        if t[0] == "id" and t[1] == "const":
            j = i + 1
            block = j < n and toks[j][1] == "("
            entries = []
            if block:
                j += 1
                lines = []
                curl = []
                while j < n and not (toks[j][0] == "op" and toks[j][1] == ")"):
                    if toks[j][0] == "nl":
                        if curl:
                            lines.append(curl)
                        curl = []
                    else:
                        curl.append(toks[j])
                    j += 1
                if curl:
                    lines.append(curl)
                entries = lines
            else:
                k = j
                curl = []
                while k < n and toks[k][0] != "nl":
                    curl.append(toks[k])
                    k += 1
                entries = [curl]
            iota_idx = 0
            iota_expr = None
            for e in entries:
                if not e or e[0][0] != "id":
                    continue
                name = e[0][1]
                eq = [x for x, tt in enumerate(e) if tt[1] == "="]
                val = None
                if eq:
                    rhs = e[eq[0] + 1:]
                    if rhs and rhs[0][1] == "-" and len(rhs) > 1 and rhs[1][0] == "num":
                        val = -int(rhs[1][1].replace("_", ""), 0) if "." not in rhs[1][1] else None
                    elif len(rhs) == 1 and rhs[0][0] == "num" and "." not in rhs[0][1]:
                        try:
                            val = int(rhs[0][1].replace("_", ""), 0)
                        except ValueError:
                            val = None
                    elif any(tt[1] == "iota" for tt in rhs):
                        iota_expr = rhs
                        off = 0
                        if len(rhs) == 3 and rhs[1][1] in "+-" and rhs[2][0] == "num":
                            off = int(rhs[2][1]) * (1 if rhs[1][1] == "+" else -1)
                        iota_expr = off if len(rhs) in (1, 3) else None
                        val = (iota_idx + iota_expr) if iota_expr is not None else None
                    else:
                        iota_expr = None
                elif iota_expr is not None and len(e) == 1:
                    val = iota_idx + iota_expr
                iota_idx += 1
                if val is not None and (re.search(r"(exit|err|fail|code)", name, re.I) or path_errorish):
                    recs.append(("error" if val != 0 else "info", "exit_code_const", "%s = %d" % (name, val), e[0][2]))
            i = j + 1
            continue
        # calls: [recv .] name (
        if t[0] == "id" and i + 1 < n and toks[i + 1][1] == "(":
            name = t[1]
            recv = toks[i - 2][1] if i >= 2 and toks[i - 1][1] == "." and toks[i - 2][0] == "id" else None
            if i >= 1 and toks[i - 1][1] == "." and recv is None:
                recv = "?"  # e.g. foo().Log(
            if i >= 1 and toks[i - 1][1] == "func" or (i >= 1 and toks[i - 1][0] == "op" and toks[i - 1][1] == ")" and False):
                i += 1
                continue
            if i >= 2 and toks[i - 1][1] == ")" :
                pass
            # skip function declarations: func (r T) Name(  / func Name(
            if i >= 1 and (toks[i - 1][1] == "func" or (toks[i - 1][1] == ")" and _is_method_decl(toks, i))):
                i += 1
                continue
            key = (recv, name)
            line = t[2]
            if key in ERR_FUNCS:
                args, _ = split_args(toks, i + 1)
                idx = ERR_FUNCS[key]
                if len(args) > idx:
                    add("error", "go_error", render(args[idx]), line, printf=name.endswith("f") or name == "New")
            elif name == "Log" and recv is not None:
                args, _ = split_args(toks, i + 1)
                keys = {}
                for a in range(0, len(args) - 1, 2):
                    if len(args[a]) == 1 and args[a][0][0] == "str":
                        keys.setdefault(args[a][0][1], args[a + 1])
                text = None
                for k in ("message", "msg", "event", "error"):
                    if k in keys:
                        text = render(keys[k])
                        if text is not None:
                            break
                if text is None and len(args) == 1:
                    text = render(args[0])
                lvl = "error" if ("error" in keys or (text and FAIL_WORDS.search(text))) else "info"
                if text is not None and "error" in keys and text == render(keys.get("error")):
                    lvl = "error"
                add(lvl, "go_log", text, line, printf=False)
            elif name in LOG_LEVEL and recv not in (None, "fmt", "errors", "t", "b", "strings"):
                args, _ = split_args(toks, i + 1)
                if args:
                    add(LOG_LEVEL[name], "go_log", render(args[0]), line, printf=True)
            elif re.match(r"(?i)(report|set|new|write)\w*status", name):
                args, _ = split_args(toks, i + 1)
                for a in args:
                    r = render(a)
                    if r and finish(r) and len(r) > 12:
                        st = " ".join(tt[1] for tt in sum(args, []))
                        lvl = "error" if re.search(r"(?i)statuserror|\"error\"|failed", st) else "info"
                        add(lvl, "status", r, line, printf=True)
                        break
            elif name == "NewErrorWithClarification" or name == "NewErrorWithClarificationPtr":
                pass  # inner errors.* calls are found on their own
        i += 1
    return recs


def _is_method_decl(toks, i):
    # walk back to matching '(' and check that 'func' precedes it
    depth = 0
    j = i - 1
    while j >= 0:
        v = toks[j][1]
        if v == ")":
            depth += 1
        elif v == "(":
            depth -= 1
            if depth == 0:
                return j >= 1 and toks[j - 1][1] == "func"
        j -= 1
    return False
