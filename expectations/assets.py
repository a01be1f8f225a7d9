"""Make Data Docs render offline: swap GX's CDN links for copies from installed npm packages.

GX 1.x Data Docs pages load Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from
CDNs, so on a machine without network (or behind a proxy) they render unstyled and the
index page's table (built by bootstrap-table in JavaScript) stays empty. ``make setup``
installs the very same libraries with ``npm ci`` from ``package.json``/``package-lock.json``
(no third-party file is committed here); after every ``build_data_docs`` this module copies
the files the pages need into the site's ``static/vendor/`` and rewrites each page's links to
relative paths. A page already rewritten has nothing left to replace, so rewriting is
idempotent.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

#: CDN URL (as GX's templates spell it) -> file inside node_modules.
CDN_FILES: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/dist/js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js/dist/umd/popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "@fortawesome/fontawesome-free/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
}
#: Folders a copied file needs beside it (Font Awesome's CSS loads ``../webfonts/*``).
COMPANION_DIRS = ["@fortawesome/fontawesome-free/webfonts"]
#: GX points its navbar logo at an S3 bucket although the same images ship in the site.
GX_IMAGES_URL = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"

# SRI hashes name the CDN's exact bytes and `crossorigin` makes file:// loads fail in Chromium.
_SRI = re.compile(r'\s+(?:integrity="[^"]*"|crossorigin="[^"]*")')
_EXTERNAL_ASSET = re.compile(r'<(?:script|link|img)\b[^>]*?(?:src|href)="(https?://[^"]+)"')


class AssetsMissing(RuntimeError):
    """The npm packages with the report's CSS/JS are not installed."""


def node_modules() -> Path:
    return Path(os.environ.get("NEWSETL_NODE_MODULES", PROJECT_ROOT / "node_modules"))


def vendor_into(site: Path, modules: Path | None = None) -> None:
    """Copy the files of :data:`CDN_FILES` into ``site/static/vendor`` (only when changed)."""
    modules = modules or node_modules()
    missing = [rel for rel in CDN_FILES.values() if not (modules / rel).is_file()]
    if missing:
        raise AssetsMissing(f"{len(missing)} report asset(s) missing under {modules} (e.g. {missing[0]}): "
                            "run `make setup` (it runs `npm ci`) so Data Docs render offline")
    vendor = site / "static" / "vendor"
    for rel in CDN_FILES.values():
        _copy_if_changed(modules / rel, vendor / rel)
    for rel in COMPANION_DIRS:
        for src in (modules / rel).iterdir():
            _copy_if_changed(src, vendor / rel / src.name)


def _copy_if_changed(src: Path, dst: Path) -> None:
    if dst.is_file() and dst.stat().st_size == src.stat().st_size and dst.stat().st_mtime >= src.stat().st_mtime:
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def localize_html(html: str, prefix: str) -> str:
    """Point CDN links at ``<prefix>static/vendor/...`` and the logo at the site's own images.

    ``prefix`` is the relative path from the page to the site root ("" or "../../").
    """
    for url, rel in CDN_FILES.items():
        html = html.replace(f'"{url}"', f'"{prefix}static/vendor/{rel}"')
    html = html.replace(GX_IMAGES_URL, f"{prefix}static/images/")
    return _SRI.sub("", html)


def external_assets(html: str) -> list[str]:
    """URLs a page would still fetch from the network (scripts, styles, images)."""
    return _EXTERNAL_ASSET.findall(html)


def localize_site(site: Path, since: float | None = None, modules: Path | None = None) -> list[str]:
    """Vendor the assets and rewrite the pages of a Data Docs site (only those written after
    ``since``, a timestamp, when given); returns the URLs still pointing at the network."""
    vendor_into(site, modules)
    leftovers: set[str] = set()
    for page in site.rglob("*.html"):
        if since is not None and page.stat().st_mtime < since:
            continue
        prefix = os.path.relpath(site, page.parent).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix + "/"
        html = page.read_text(encoding="utf-8")
        new = localize_html(html, prefix)
        if new != html:
            page.write_text(new, encoding="utf-8")
        leftovers.update(external_assets(new))
    return sorted(leftovers)
