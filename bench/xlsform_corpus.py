"""XLSForm corpus: loads every .xlsx/.xls under a folder as `campaign create --form` does, as it is and with
--skip-unsupported, and prints what loaded, what was refused and why (the blockers by count), the crashes (an
exception other than our one-line FormError: must be 0) and whether every refusal is one line naming the sheet
and the row. Workbooks without a `survey` sheet are not XLSForms (data exports kept beside forms) and are
counted apart. The corpus is public forms collected outside the repository (see the README).

    python bench/xlsform_corpus.py /work/corpus/xlsforms
    python bench/xlsform_corpus.py /work/corpus/xlsforms -v     # every refusal, one line each

Goal (issue 24): as they are >= 60 %, with --skip-unsupported >= 95 %, 0 crashes.
"""

from __future__ import annotations

import re
import sys
import traceback
import warnings
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.form_files import load_form_file  # noqa: E402
from conversations import texts  # noqa: E402
from conversations.form import FormError  # noqa: E402

PLACED = re.compile(r"trang tính [^,]+, dòng \d+")
# a question kept that reads one left out: unchecked (its constraint), computed with it as empty (its
# calculation), a list left open (its count) — see conversations/xlsform.py
READ_AROUND = re.compile("|".join(re.escape(t.split("{key}")[1].split("{other}")[0]) for t in (
    texts.XLSFORM_CONSTRAINT_SKIPPED, texts.XLSFORM_CALCULATION_SKIPPED, texts.XLSFORM_COUNT_SKIPPED)))


def blocker(message: str) -> str:
    """A refusal's reason without the file, the row and the quoted values that vary: a type keeps its name."""
    reason = re.sub(r"^.*?trang tính [^,:]+(, dòng \d+)?(, cột [^:]+)?: ", "", message)
    if m := re.match(r"kiểu '([^' ]+)", reason):
        return f"kiểu {m[1]}"
    if reason.startswith("biểu thức chưa được hỗ trợ"):
        if m := re.search(r"hàm (\S+)\(\) chưa", reason):
            return f"biểu thức: hàm {m[1]}()"
        return "biểu thức: " + re.sub(r"'[^']*'", "'…'", reason.split(": ", 1)[1])[:60]
    return re.sub(r"dòng \d+", "dòng …", re.sub(r"'[^']*'", "'…'", reason))[:90]


def attempt(path: Path, skip: bool) -> tuple[str, str, list[str]]:
    """('loaded' | 'refused' | 'crash' | 'not_xlsform', the message, the lines left out)."""
    skipped: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            load_form_file(path, skip_unsupported=skip, skipped=skipped)
        except FormError as exc:
            if texts.XLSFORM_NO_SURVEY in str(exc):
                return "not_xlsform", str(exc), skipped
            return "refused", str(exc), skipped
        except Exception:  # noqa: BLE001 - a crash is what this counts
            return "crash", traceback.format_exc(limit=3), skipped
    if caught:
        return "crash", f"a library warning reached the caller: {caught[0].message}", skipped
    return "loaded", "", skipped


def main(folder: Path, verbose: bool) -> None:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".xlsx", ".xls") and p.is_file())
    outcome: dict[bool, Counter] = {False: Counter(), True: Counter()}
    blockers: dict[bool, Counter] = {False: Counter(), True: Counter()}
    badly_said, crashes, left_out, read_around = [], [], Counter(), Counter()
    by_source: dict[str, Counter] = {}
    for path in files:
        source = path.relative_to(folder).parts[0] if len(path.relative_to(folder).parts) > 1 else "."
        for skip in (False, True):
            kind, message, skipped = attempt(path, skip)
            outcome[skip][kind] += 1
            by_source.setdefault(source, Counter())[(skip, kind)] += 1
            if kind == "refused":
                blockers[skip][blocker(message)] += 1
                if "\n" in message or (not PLACED.search(message) and "giới hạn" not in message):
                    badly_said.append(message)
                if verbose:
                    print(f"{'skip' if skip else 'as is'}: {message}")
            elif kind == "crash":
                crashes.append(f"{path}: {message}")
            if skip:
                for line in skipped:
                    (read_around if READ_AROUND.search(line) else left_out)[blocker(line)] += 1
            if kind == "not_xlsform":
                break
    forms = len(files) - outcome[False]["not_xlsform"]
    print(f"{len(files)} workbooks under {folder}: {forms} XLSForms, {outcome[False]['not_xlsform']} without a "
          f"survey sheet (not forms, left out of the figures)")
    for skip, name in ((False, "as they are"), (True, "with --skip-unsupported")):
        loaded = outcome[skip]["loaded"]
        print(f"  {name:<26} loaded {loaded:>3} / {forms} ({100 * loaded / max(forms, 1):.0f} %), "
              f"refused {outcome[skip]['refused']}, crashes {outcome[skip]['crash']}")
    print("\nBy source (folder): forms, loaded as they are, loaded with --skip-unsupported")
    for source, counts in sorted(by_source.items()):
        forms_here = sum(counts[(False, k)] for k in ("loaded", "refused", "crash"))
        if forms_here:
            print(f"  {source:<40} {forms_here:>4} {counts[(False, 'loaded')]:>4} {counts[(True, 'loaded')]:>4}")
    for skip, name in ((False, "Blockers as they are"), (True, "Blockers with --skip-unsupported")):
        print(f"\n{name} (forms refused for it):")
        for reason, count in blockers[skip].most_common():
            print(f"  {count:>4}  {reason}")
    print("\nLeft out with --skip-unsupported (rows, by reason):")
    for reason, count in left_out.most_common(15):
        print(f"  {count:>4}  {reason}")
    print("\nKept with --skip-unsupported, reading a left-out question (rows, by how):")
    for reason, count in read_around.most_common():
        print(f"  {count:>4}  {reason}")
    print(f"\nRefusals not one line naming sheet and row: {len(badly_said)}")
    for message in badly_said[:10]:
        print(f"  {message}")
    print(f"Crashes: {len(crashes)}")
    for message in crashes[:10]:
        print(f"  {message}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "-v"]
    main(Path(args[0] if args else "/work/corpus/xlsforms"), "-v" in sys.argv[1:])
