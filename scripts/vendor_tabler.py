"""Vendor the Tabler UI kit from the npm registry into kefu/web/static/vendor/ (ADR 0003).

    python scripts/vendor_tabler.py [CORE_VERSION] [ICONS_VERSION]

Needs `npm` (only to download the packages with `npm pack`). Copies @tabler/core's minified CSS
and JS (Bootstrap 5 included) and builds one SVG sprite from the @tabler/icons outline icons
Kefu uses (ICONS below; add a name here and re-run to use another icon). Served locally by
whitenoise: no CDN, no web fonts.
"""

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "kefu" / "web" / "static" / "vendor"
ICONS = [
    "alert-triangle", "arrow-down-right", "arrow-up-right", "bell", "building-store", "chart-bar",
    "check", "chevron-down", "chevron-right", "circle-filled", "clipboard-list", "download",
    "file-spreadsheet", "filter", "help", "home", "inbox", "info-circle", "keyboard", "language",
    "layout-dashboard", "logout", "menu-2", "message-circle", "package", "search", "settings",
    "truck-return", "user", "users", "x",
]
MAP_LINE = re.compile(r"^(/\*# sourceMappingURL=.*\*/|//# sourceMappingURL=.*)$", re.M)


def pack(name: str, version: str, into: Path) -> Path:
    spec = f"{name}@{version}" if version else name
    tgz = subprocess.run(["npm", "pack", "--silent", spec], cwd=into, check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()[-1]
    dest = into / name.replace("/", "_")
    with tarfile.open(into / tgz) as tar:
        tar.extractall(dest, filter="data")
    return dest / "package"


def symbol(name: str, svg: str) -> str:
    body = svg[svg.index(">", svg.index("<svg")) + 1: svg.rindex("</svg>")]
    body = re.sub(r'<path stroke="none" d="M0 0h24v24H0z" fill="none"\s*/>', "", body)
    body = " ".join(body.split())
    fill = 'fill="currentColor"' if name.endswith("-filled") else (
        'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"')
    return f'<symbol id="ti-{name}" viewBox="0 0 24 24" {fill}>{body}</symbol>'


def main(core_version: str = "", icons_version: str = "") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        core = pack("@tabler/core", core_version, tmp)
        icons = pack("@tabler/icons", icons_version, tmp)
        dest = OUT / "tabler"
        dest.mkdir(parents=True, exist_ok=True)
        for src in ("css/tabler.min.css", "js/tabler.min.js"):
            text = (core / "dist" / src).read_text(encoding="utf-8")
            (dest / Path(src).name).write_text(MAP_LINE.sub("", text).rstrip() + "\n", encoding="utf-8")
        version = __import__("json").loads((core / "package.json").read_text())["version"]
        idest = OUT / "tabler-icons"
        idest.mkdir(parents=True, exist_ok=True)
        shutil.copy(icons / "LICENSE", idest / "LICENSE")
        symbols = []
        for name in ICONS:
            style = "filled" if name.endswith("-filled") else "outline"
            file = icons / "icons" / style / f"{name.removesuffix('-filled')}.svg"
            symbols.append(symbol(name, file.read_text(encoding="utf-8")))
        (idest / "sprite.svg").write_text(
            '<svg xmlns="http://www.w3.org/2000/svg">\n' + "\n".join(symbols) + "\n</svg>\n", encoding="utf-8")
        iversion = __import__("json").loads((icons / "package.json").read_text())["version"]
        (OUT / "VERSIONS").write_text(
            f"@tabler/core {version}: tabler/tabler.min.css, tabler/tabler.min.js (MIT, tabler/LICENSE)\n"
            f"@tabler/icons {iversion}: tabler-icons/sprite.svg, {len(ICONS)} outline icons (MIT, tabler-icons/LICENSE)\n"
            "Made by scripts/vendor_tabler.py; the sourceMappingURL comments are removed (no .map files).\n",
            encoding="utf-8")
        print(f"@tabler/core {version}, @tabler/icons {iversion} ({len(ICONS)} icons) -> {OUT}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
