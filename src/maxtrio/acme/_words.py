"""Embedded word lists for the seeder: names, companies, hacker jargon, lorem ipsum, files.

Our own small lists (the reference uses faker's English locale); the seeder only needs values of
the same flavour, drawn deterministically.
"""

from __future__ import annotations

from typing import Final


def _split(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES: Final = _split(
    """Ada Alan Alice Amara Anya Arjun Ben Bianca Carlos Chen Chloe Dana David Diego Elena Emil
    Erin Fatima Felix Grace Hana Hugo Ines Isaac Ivy Jamal Jonas Julia Kai Karin Leo Lena Liam
    Lucia Maya Mei Milan Nadia Nils Noah Nora Omar Olga Paula Priya Quinn Rafael Rosa Ruth Sam
    Sara Sofia Tariq Theo Uma Victor Vera Wanda Xavier Yara Yusuf Zoe"""
)
LAST_NAMES: Final = _split(
    """Abbott Andersen Baker Bauer Bennett Brooks Castillo Chen Cohen Costa Dubois Duarte Eriksen
    Fischer Flores Garcia Gomez Hansen Hart Hughes Ito Jensen Kaur Keller Kim Kowalski Larsen Lee
    Lopez Martin Meyer Moreau Murphy Nakamura Nguyen Novak Okafor Olsen Park Patel Perez Quinn
    Reyes Rossi Russo Sato Schmidt Silva Singh Smith Suzuki Tanaka Taylor Torres Vogel Walsh
    Weber Wong Young Zimmer"""
)
EMAIL_DOMAINS: Final = ("example.com", "example.org", "example.net", "acme.test", "mail.test")

COMPANY_WORDS: Final = _split(
    """Apex Aurora Beacon Blue Bright Cedar Cobalt Crescent Delta Eagle Ember Evergreen Falcon
    Granite Harbor Horizon Iron Juniper Keystone Lumen Maple Meridian Nimbus Northwind Oak Orbit
    Pine Pioneer Quartz Redwood Ridge Silver Summit Titan Vertex Willow Zenith"""
)
COMPANY_SUFFIXES: Final = ("Inc", "LLC", "Group", "Labs", "Systems", "and Sons", "Partners")

ADJECTIVES: Final = _split(
    """auxiliary primary back-end digital open-source virtual cross-platform redundant online
    haptic multi-byte bluetooth wireless 1080p neural optical solid-state mobile"""
)
NOUNS: Final = _split(
    """driver protocol bandwidth panel microchip program port card array interface system sensor
    firewall hard-drive pixel alarm feed monitor application transmitter bus circuit capacitor
    matrix"""
)
VERBS: Final = _split(
    """back-up bypass hack override compress copy navigate index connect generate quantify
    calculate synthesize input transmit program reboot parse"""
)
ING_VERBS: Final = _split(
    """backing-up bypassing hacking overriding compressing copying navigating indexing connecting
    generating quantifying calculating synthesizing transmitting programming parsing"""
)
ABBREVIATIONS: Final = _split(
    "ADP AGP AI API ASCII CLI COM CSS DNS EXE FTP GB HDD HEX HTTP IB IP JBOD JSON PCI RAM SAS SCSI "
    "SDD SMS SMTP SQL SSD SSL TCP THX TLS UDP USB UTF XML XSS"
)
PHRASES: Final = (
    "We need to {verb} the {adjective} {abbreviation} {noun}",
    "Try to {verb} the {abbreviation} {noun}",
    "{ing_verb} the {noun} won't do anything",
    "Use the {adjective} {abbreviation} {noun}",
    "The {abbreviation} {noun} is down",
    "You can't {verb} the {noun} without {ing_verb} the {adjective} {noun}",
    "I'll {verb} the {adjective} {noun}",
    "If we {verb} the {noun}, we can get to the {abbreviation} {noun}",
)
CATCH_ADJECTIVES: Final = _split(
    """Adaptive Automated Balanced Centralized Configurable Cross-group Customizable Distributed
    Enhanced Ergonomic Focused Fully-configurable Innovative Integrated Managed Multi-layered
    Optimized Organic Proactive Robust Seamless Streamlined Synergistic Versatile"""
)
CATCH_DESCRIPTORS: Final = _split(
    """24/7 asynchronous bi-directional client-driven contextually-based dynamic encompassing
    executive fault-tolerant global heuristic interactive local mission-critical modular
    real-time scalable systematic transitional zero-defect"""
)
CATCH_NOUNS: Final = _split(
    """ability access algorithm alliance analyzer architecture benchmark capability challenge
    circuit collaboration database encoding framework functionality hierarchy infrastructure
    initiative methodology middleware model paradigm platform portal solution toolset"""
)
LOREM: Final = _split(
    """lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut
    labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris
    nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse
    cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui
    officia deserunt mollit anim id est laborum"""
)
TAGS: Final = (
    "bug", "feature", "docs", "chore", "refactor", "performance", "security", "ux", "backend",
    "frontend",
)  # fmt: skip
FILE_WORDS: Final = _split(
    """agenda budget contract design diagram draft estimate forecast invoice notes plan proposal
    report roadmap schedule screenshot sketch spec summary timeline"""
)
MIME_TYPES: Final = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "md": "text/markdown",
    "txt": "text/plain",
}
FILE_EXTENSIONS: Final = tuple(MIME_TYPES)


def mime_type_of(extension: str) -> str:
    """The MIME type of a file extension, ``application/octet-stream`` when unknown."""
    return MIME_TYPES.get(extension, "application/octet-stream")
