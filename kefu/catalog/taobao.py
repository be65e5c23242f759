"""The Taobao/千牛 product file: 淘宝助理's 宝贝 CSV (the export of the seller's items that 淘宝助理
and the 千牛 item tools read and write).

Layout, as 淘宝助理 5.5/5.6 writes it: tab-separated text (UTF-16 with a BOM; GBK and UTF-8 are
read too), line 1 `version 1.00`, line 2 the English keys (title, cid, …, skuProps, …, outer_id,
propAlias, …, num_id, …), line 3 the Chinese column names (宝贝名称, 宝贝类目, …), then one line per
item (宝贝) — its SKUs are packed into the 销售属性组合 (skuProps) cell:

    价格:数量:SKU商家编码:属性ID:属性值ID;属性ID:属性值ID;价格:数量:SKU商家编码:属性ID:属性值ID;…

a SKU starting at each part with five fields, its further properties as `pid:vid` parts. The
names of the property values are Taobao's (not in the file) unless the seller gave aliases in
销售属性别名 (`pid:vid:别名;`), which become the SKU's title. An item without SKUs is one SKU
whose code is the item's 商家编码. 宝贝类目/店铺类目 hold category *ids*, not names: they are not
mapped (import categories with the generic format). The file has no batches.
"""

import csv
import io
from pathlib import Path

from kefu.core.errors import KefuError, ValidationFailed

# Kefu field → the Chinese column it comes from (what errors name)
COLUMNS = {"product_id": "数字ID", "product_title": "宝贝名称", "sku": "商家编码", "price": "宝贝价格",
           "stock": "宝贝数量", "listed": "放入仓库", "sku_title": "销售属性别名", "sku_props": "销售属性组合"}
KEYS = {"数字ID": "num_id", "宝贝名称": "title", "商家编码": "outer_id", "宝贝价格": "price", "宝贝数量": "num",
        "放入仓库": "approve_status", "销售属性别名": "propAlias", "销售属性组合": "skuProps"}


def _text(path: Path) -> str:
    raw = path.read_bytes()
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise KefuError("the file is neither UTF-16, UTF-8 nor GBK text", field="file")


def _header(lines: list[tuple[int, list[str]]]) -> tuple[int, dict[str, int]]:
    """The index of the Chinese header line among the first three, and column → position."""
    heads = [[c.strip() for c in cells] for _line, cells in lines[:3]]
    for i, names in enumerate(heads):
        if "宝贝名称" in names:
            return i, {n: k for k, n in enumerate(names) if n}
    for i, names in enumerate(heads):
        if "title" in names and "num_id" in names:  # English keys only (line 3 removed)
            by_key = {v: k for k, v in KEYS.items()}
            return i, {by_key.get(n, n): k for k, n in enumerate(names) if n}
    raise KefuError("not a 淘宝助理 file: no 宝贝名称 header in the first three lines", field="header")


def sku_props(text: str) -> list[dict]:
    """The SKUs packed in a 销售属性组合 cell: [{"price", "stock", "sku", "props": ["pid:vid", …]}]."""
    out: list[dict] = []
    for part in (p.strip() for p in text.strip().strip('"').split(";")):
        if not part:
            continue
        fields = part.split(":")
        if len(fields) >= 5:
            out.append({"price": fields[0], "stock": fields[1], "sku": ":".join(fields[2:-2]),
                        "props": [f"{fields[-2]}:{fields[-1]}"]})
        elif len(fields) == 2 and out:
            out[-1]["props"].append(part)
        else:
            raise KefuError(f"cannot read the SKU part {part!r} (价格:数量:商家编码:属性ID:属性值ID)", field="sku_props")
    return out


def _aliases(text: str) -> dict[str, str]:
    got = {}
    for part in (p.strip() for p in text.strip().strip('"').split(";")):
        fields = part.split(":")
        if len(fields) >= 3:
            got[f"{fields[0]}:{fields[1]}"] = ":".join(fields[2:])
    return got


def taobao_rows(path: str | Path) -> tuple[list[dict], dict[str, str]]:
    """Rows with Kefu's field names (one per SKU, `_line` = the item's file line) and field → the
    file's column for messages. A cell that cannot be read is an error naming its line and column."""
    path = Path(path)
    if not path.is_file():
        raise KefuError(f"no such file: {path}", field="file")
    text = _text(path)
    records, line = [], 1
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", strict=True)
    try:
        for cells in reader:
            records.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ValidationFailed([{"row": line, "field": "file", "message": f"broken file: {exc}; nothing was imported"}]) \
            from exc
    records = [(n, c) for n, c in records if any(x.strip() for x in c)]
    if not records:
        raise KefuError("the file is empty", field="file")
    at, cols = _header(records)
    missing = [c for c in ("数字ID", "宝贝名称", "商家编码") if c not in cols]
    if missing:
        raise KefuError(f"the file lacks the column(s): {', '.join(missing)}", field="header")

    def cell(cells, name):
        k = cols.get(name)
        return cells[k].strip() if k is not None and k < len(cells) else ""

    rows, errors = [], []
    for n, cells in records[at + 1 :]:
        base = {"_line": n, "product_id": cell(cells, "数字ID"), "product_title": cell(cells, "宝贝名称"),
                "listed": {"1": "仓库中", "0": "出售中"}.get(cell(cells, "放入仓库"), cell(cells, "放入仓库"))}
        try:
            skus = sku_props(cell(cells, "销售属性组合"))
        except KefuError as exc:
            errors.append({"row": n, "field": "销售属性组合", "message": exc.message})
            continue
        if not skus:  # an item without SKUs: itself, coded by its 商家编码
            rows.append({**base, "sku": cell(cells, "商家编码"), "price": cell(cells, "宝贝价格"),
                         "stock": cell(cells, "宝贝数量")})
            continue
        alias = _aliases(cell(cells, "销售属性别名"))
        for k, s in enumerate(skus, 1):
            if not s["sku"]:
                errors.append({"row": n, "field": "销售属性组合",
                               "message": f"SKU {k} has no 商家编码 (set the SKU codes in 千牛/淘宝助理)"})
                continue
            title = " ".join(alias[p] for p in s["props"] if p in alias)
            rows.append({**base, "sku": s["sku"], "price": s["price"], "stock": s["stock"], "sku_title": title})
    if errors:
        raise ValidationFailed(errors)
    return rows, {"product_id": "数字ID", "product_title": "宝贝名称", "sku": "商家编码 / 销售属性组合",
                  "price": "宝贝价格 / 销售属性组合", "stock": "宝贝数量 / 销售属性组合", "listed": "放入仓库",
                  "sku_title": "销售属性别名"}
