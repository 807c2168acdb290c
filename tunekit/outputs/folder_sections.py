"""Sections of a folder's model card and report.html that come from what a run recorded beside its training
(tunekit_args.json), not from its task: a distilled folder's teacher. The card and the page show every section
listed here that has something to say for the folder; a feature that records facts of its own adds one."""

from dataclasses import dataclass
from typing import Callable

from tunekit.outputs.teacher import distillation_html, distillation_markdown


@dataclass(frozen=True)
class FolderSection:
    anchor: str  # in report.html
    heading: str
    markdown: Callable[[str], str]  # output folder -> the card's section ("": none)
    html: Callable[[str], str]  # output folder -> the page section's content ("": none)


FOLDER_SECTIONS = (FolderSection("teacher", "Teacher", distillation_markdown, distillation_html),)


def card_sections(output_dir: str) -> str:
    return "".join(section.markdown(output_dir) for section in FOLDER_SECTIONS)


def page_sections(output_dir: str) -> list:
    """(anchor, heading, content) of each section with content."""
    return [(section.anchor, section.heading, content) for section in FOLDER_SECTIONS
            for content in [section.html(output_dir)] if content]
