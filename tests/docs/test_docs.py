"""Keep the docs honest as the code changes.

Every `multiaccount ...` command line quoted in the docs (fenced code blocks and inline code) must name a
real command path of the CLI (walked from `typer.main.get_command(multiaccount.cli.app)`), and every
`--option` it shows must be an option of that command. Every relative link between docs must resolve
(file and, when given, heading anchor). `docs/README.md` must index every doc.

Docs written by other engineers are checked too; `OTHERS_KNOWN_WRONG` lists the (doc, quoted text)
pairs that are known to be wrong and reported to their owners, so they do not hide new mistakes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

from multiaccount.cli import app

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

# (doc file name, the offending quoted command text): wrong in a doc someone else owns, reported.
OTHERS_KNOWN_WRONG: set[tuple[str, str]] = set()

_FENCE = re.compile(r"^(```|~~~)")
_INLINE = re.compile(r"`([^`\n]+)`")
# `multiaccount` as a program name: at the start, after whitespace/shell punctuation, or after `bin/`.
_PROGRAM = re.compile(r"(?:^|(?<=[\s`'\"(|;&$])|(?<=bin/))multiaccount[ \t]+(?=\S)")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_STOP = re.compile(r"^(#|&&|\|\||;|>|2>|\||\\)$")


@dataclass(frozen=True)
class Problem:
    doc: str
    line: int
    text: str
    why: str

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}: `{self.text}`: {self.why}"


# ------------------------------------------------------------------------------------ CLI tree
# typer >= 0.16 vendors its own click (`typer._click`): duck-type commands instead of isinstance checks.
Command = Any


def cli_root() -> Command:
    return typer.main.get_command(app)


def _is_group(cmd: Command) -> bool:
    return hasattr(cmd, "get_command") and hasattr(cmd, "list_commands")


def _options(cmd: Command) -> set[str]:
    names = {"--help"}
    for p in cmd.params:
        if p.param_type_name == "option":
            names.update(p.opts)
            names.update(p.secondary_opts)
    return names


def _subcommand(group: Command, name: str) -> Command | None:
    return group.get_command(group.context_class(group), name)


def check_command(tokens: list[str], root: Command, _start: Command | None = None,
                  _path: tuple[str, ...] = ("multiaccount",)) -> str | None:
    """None when `multiaccount <tokens>` names a real command with real options, else why not."""
    cmd, path = _start or root, list(_path)
    for i, raw in enumerate(tokens):
        tok = raw.strip("[](),.:")
        if not tok or _STOP.match(raw) or raw.startswith("#"):
            break
        if tok.startswith("-"):
            for opt in re.split(r"[|/]", tok.split("=", 1)[0]):
                if opt.startswith("-") and opt not in _options(cmd):
                    return f"`{' '.join(path)}` has no option {opt}"
            continue
        if _is_group(cmd):
            if tok.startswith(("<", "{", "$", "...")):
                return None  # a placeholder where a sub-command goes
            alternatives = tok.split("|")
            found = [_subcommand(cmd, a) for a in alternatives]
            missing = [a for a, c in zip(alternatives, found) if c is None]
            if missing:
                return f"`{' '.join(path)}` has no sub-command {', '.join(missing)}"
            # `halt|resume --scope ...`: the rest must fit every alternative
            for a, c in zip(alternatives, found):
                why = check_command(tokens[i + 1:], root, c, (*path, a))
                if why:
                    return why
            return None
    return None


def command_tokens(line: str) -> list[list[str]]:
    """The token lists following each `multiaccount ` program name on a line."""
    out = []
    for m in _PROGRAM.finditer(line):
        rest = line[m.end():]
        rest = rest.split("`", 1)[0]
        out.append(rest.split())
    return out


# ------------------------------------------------------------------------------------ markdown
def quoted_commands(text: str) -> list[tuple[int, str, list[str]]]:
    """(line number, quoted text, tokens) for each command in fenced blocks and inline code."""
    found: list[tuple[int, str, list[str]]] = []
    in_fence = False
    for n, line in enumerate(text.splitlines(), 1):
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
            continue
        spans = [line] if in_fence else _INLINE.findall(line)
        for span in spans:
            for tokens in command_tokens(span):
                if tokens:
                    found.append((n, span.strip(), tokens))
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    in_fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
            continue
        m = None if in_fence else _HEADING.match(line)
        if m:
            base = slug(m.group(2))
            k = seen.get(base, 0)
            seen[base] = k + 1
            out.add(base if k == 0 else f"{base}-{k}")
    return out


def link_problems(doc: Path) -> list[Problem]:
    problems = []
    in_fence = False
    for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
        if _FENCE.match(line.strip()):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        for target in _LINK.findall(re.sub(r"`[^`]*`", "", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:, ...
                continue
            file_part, _, anchor = target.partition("#")
            dest = (doc.parent / file_part).resolve() if file_part else doc
            if not dest.exists():
                problems.append(Problem(doc.name, n, target, f"{dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest} does not exist"))
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                problems.append(Problem(doc.name, n, target, f"no heading #{anchor} in {dest.name}"))
    return problems


def command_problems(doc: Path, root: Command) -> list[Problem]:
    problems = []
    for n, text, tokens in quoted_commands(doc.read_text(encoding="utf-8")):
        why = check_command(tokens, root)
        if why and (doc.name, text) not in OTHERS_KNOWN_WRONG:
            problems.append(Problem(doc.name, n, text, why))
    return problems


def all_docs() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


# ------------------------------------------------------------------------------------ tests
@pytest.fixture(scope="module")
def root() -> Command:
    return cli_root()


def test_check_when_sub_command_is_unknown_then_names_it(root):
    assert check_command(["backup", "explode"], root) == "`multiaccount backup` has no sub-command explode"
    assert check_command(["frobnicate"], root) == "`multiaccount` has no sub-command frobnicate"


def test_check_when_option_is_unknown_then_names_it(root):
    why = check_command(["halt", "--scope", "firm", "--why", "x"], root)
    assert why == "`multiaccount halt` has no option --why"


def test_check_when_alternatives_are_quoted_then_each_is_checked(root):
    assert check_command(["halt|resume", "--scope", "firm", "--reason", "r", "--actor", "a"], root) is None
    assert check_command(["halt|pause", "--scope", "firm"], root) == "`multiaccount` has no sub-command pause"


def test_check_when_command_is_real_then_passes(root):
    assert check_command(["backup", "restore", "NAME", "--target", "sqlite:///x.db"], root) is None
    assert check_command(["checklist", "setup", "--live"], root) is None
    assert check_command(["connections", "--thread/--process"], root) is None
    assert check_command(["alerts", "list", "[--status", "S]", "[--unacked]"], root) is None


def test_extract_when_markdown_quotes_commands_then_finds_fenced_and_inline_but_not_module_names():
    text = ("Run `multiaccount diagnostics` then `multiaccount.risk` is a module;\n"
            "see include/multiaccount/cli.py and `MULTIACCOUNT_HOME`.\n"
            "```\n"
            "$ .venv/bin/multiaccount backup list   # newest first\n"
            "image: multiaccount:latest\n"
            "```\n")
    found = [(n, tokens) for n, _, tokens in quoted_commands(text)]
    assert found == [(1, ["diagnostics"]), (4, ["backup", "list", "#", "newest", "first"])]


def test_links_when_target_or_anchor_is_missing_then_reported(tmp_path):
    (tmp_path / "a.md").write_text("# Title\n## Some `code` section\n[ok](b.md#other-part) [bad](c.md) "
                                   "[anchor](#some-code-section) [gone](#nope) [web](https://example.org)\n")
    (tmp_path / "b.md").write_text("# B\n## Other part\n")
    problems = link_problems(tmp_path / "a.md")
    assert [p.text for p in problems] == ["c.md", "#nope"]


@pytest.mark.parametrize("doc", all_docs(), ids=lambda p: p.name)
def test_docs_when_they_quote_multiaccount_commands_then_each_is_a_real_command(doc, root):
    problems = command_problems(doc, root)
    assert not problems, "\n".join(map(str, problems))


@pytest.mark.parametrize("doc", all_docs(), ids=lambda p: p.name)
def test_docs_when_they_link_relatively_then_every_link_resolves(doc):
    problems = link_problems(doc)
    assert not problems, "\n".join(map(str, problems))


def test_index_when_docs_exist_then_readme_links_every_one():
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    linked = {t.partition("#")[0] for t in _LINK.findall(index)}
    missing = [p.name for p in all_docs() if p.name != "README.md" and p.name not in linked]
    assert not missing, f"add a line for each to docs/README.md: {missing}"


def test_docs_when_checked_then_every_doc_quotes_at_least_one_command_or_none_is_claimed(root):
    """Guards the extractor: our own runbooks quote many commands; zero found would mean it broke."""
    for name in ("operations.md", "deployment.md", "mt5.md"):
        assert len(quoted_commands((DOCS / name).read_text(encoding="utf-8"))) >= 5, name
