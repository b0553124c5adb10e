"""Checks the book's relative links: every `](path.md)` or `](path.md#x)` and
every `src="…"` in docs/src points at a file that exists. mdbook does not
check them; a broken link fails CI here."""
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "docs/src"
bad = []
for dirpath, _, files in os.walk(root):
    for name in files:
        if not name.endswith(".md"):
            continue
        path = os.path.join(dirpath, name)
        text = open(path, encoding="utf-8").read()
        # Code blocks may hold anything that looks like a link.
        text = re.sub(r"```.*?```", "", text, flags=re.S)
        targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'src="([^"]+)"', text)
        for target in targets:
            if re.match(r"^(https?:|mailto:|#)", target):
                continue
            file = target.split("#", 1)[0]
            if not os.path.exists(os.path.normpath(os.path.join(dirpath, file))):
                bad.append(f"{path}: {target}")
if bad:
    print("broken links in the book:\n  " + "\n  ".join(bad))
    sys.exit(1)
print(f"book links ok ({root})")
