"""The README and the documentation site: the site builds with strict link and anchor checking, every link of the
README reaches a file and heading that exist, and the README stays a front door (short, with a table of contents
and the five-minute tour near the top)."""

import os
import re

from conftest import REPO

README = os.path.join(REPO, "README.md")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def headings(path: str) -> set:
    """The anchors Python-Markdown's toc (what mkdocs uses) gives the file's headings; code blocks left out."""
    from markdown.extensions.toc import slugify

    text = re.sub(r"```.*?```", "", open(path, encoding="utf-8").read(), flags=re.S)
    return {slugify(line.lstrip("#").strip(), "-") for line in text.splitlines() if line.startswith("#")}


def test_the_site_builds_with_every_link_and_anchor_checked(tmp_path):
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    config = load_config(os.path.join(REPO, "mkdocs.yml"), site_dir=str(tmp_path / "site"), strict=True)
    build(config)  # raises mkdocs' Abort on any warning: a broken link or anchor, a page left out of the nav
    assert (tmp_path / "site" / "prediction-and-serving" / "index.html").exists()


def test_every_readme_link_reaches_a_file_and_heading_that_exist():
    text = open(README, encoding="utf-8").read()
    links = [link for link in LINK.findall(text) if not link.startswith(("http://", "https://", "mailto:"))]
    assert len(links) > 10
    for link in links:
        path, _, anchor = link.partition("#")
        target = os.path.join(REPO, path) if path else README
        assert os.path.exists(target), link
        if anchor:
            assert anchor in headings(target), link


def test_the_readme_is_a_front_door():
    lines = open(README, encoding="utf-8").read().splitlines()
    assert len(lines) <= 260
    assert "## Contents" in lines[:40]
    tour = next(number for number, line in enumerate(lines) if line.startswith("## A five-minute tour"))
    assert tour < 100
    for step in ("Train", "Evaluate", "Predict", "Serve", "Read the report", "Your own data"):
        assert any(line.startswith("### ") and step in line for line in lines[tour:]), step
