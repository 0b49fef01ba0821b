"""Deterministic demo data: a realistic stakeholder network for demos and benchmarks.

`demo_seed(size=..., seed=...)` plans the whole network in memory first (numpy
arrays and plain lists, driven only by the seed and the reference day), then
writes it: `bulk_create` with explicit ids for the small tables, and for the big
ones (interactions, their two participant tables, commitments, relationships)
PostgreSQL's COPY, or batched INSERTs on other databases. The plan never reads
database ids, so the same seed gives the same data on SQLite and PostgreSQL.

Scores are not computed here: run the recomputation afterwards.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, User
from django.core.management.color import no_style
from django.db import connection, models, transaction

from relations.importing.bulk import statistics_refresh
from relations.matching import email_key, match_key, surname_sort_key
from relations.models import (
    CADENCE_DAYS_BY_IMPORTANCE,
    AuthenticityPulse,
    Commitment,
    GoalStakeholder,
    Interaction,
    Organization,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
    StrategicGoal,
    Tag,
    Team,
)
from relations.roles import DIRECTOR, MANAGER

DEMO_PASSWORD = "rapport-demo"
HISTORY_DAYS = 730  # two years of interactions


@dataclass(frozen=True)
class DemoSize:
    staff: int
    teams: int
    directors: int
    organizations: int
    stakeholders: int
    interactions: int
    goals: int


SIZES: dict[str, DemoSize] = {
    "tiny": DemoSize(6, 3, 1, 8, 30, 300, 2),
    "small": DemoSize(20, 5, 2, 60, 300, 5_000, 4),
    "medium": DemoSize(100, 8, 3, 500, 3_000, 60_000, 8),
    "large": DemoSize(2_000, 12, 12, 6_000, 50_000, 1_000_000, 25),
}


class DemoDataExists(Exception):
    """The database already holds domain data; `flush=True` replaces it."""


@dataclass
class DemoLogin:
    username: str
    name: str
    role: str
    teams: list[str]


@dataclass
class DemoResult:
    counts: dict[str, int]
    logins: list[DemoLogin]
    password: str
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


# --- Vocabulary ----------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = _words(
    """Dana Maria Adam Aisha Alex Alice Amara Ana Anders Anna Arjun Astrid Ben Bram
Carla Carlos Chloe Claire Daan David Diego Elena Elif Emma Eva Fatima Felix Femke Finn Freya
Gabriel Hanna Hugo Ines Isabel Ivan Jack James Jan Jasper Jonas Julia Kai Karin Kenji Lars Laura
Lea Leo Lena Liam Lina Lotte Lucas Lucia Luis Maarten Mads Marco Marek Mario Marta Max Mei Mila
Milan Nadia Noah Nora Olga Oliver Omar Oscar Paul Pedro Petra Pieter Priya Rafael Ravi Rosa
Ruben Ruth Sami Sara Sebastian Sofia Sophie Stefan Tariq Teresa Thomas Tim Tomas Valentina
Victor Wei Willem Yara Youssef Zara Zoe Amir Bianca Boris Cecile Dirk Edith Emil Eric Esther
Frank Greta Hassan Helena Ilse Jorge Joost Kim Klaus Leila Magnus Marit Nina Niels Paula Quinn
Rania Sander Silke Tess Ugo Vera Wout Xavier Yusuf Amelie Bas Cor Dina Eline"""
)

LAST_NAMES = _words(
    """Andersen Bakker Berg Bianchi Blom Bos Brandt Brouwer Castro Claes Costa Dekker
Dijkstra Dubois Eriksson Fischer Fontaine Garcia Gomez Graham Haas Hansen Hartmann Hendriks
Hoffmann Holm Horvat Hughes Jansen Jensen Keller Klein Koch Kowalski Kramer Kuiper Lambert
Larsen Laurent Lindqvist Lopez Maes Martens Meijer Meyer Moreau Mueller Mulder Murphy Nielsen
Novak Olsen Ortega Peeters Petersen Popescu Richter Rossi Russo Sanchez Schmidt Schneider
Schouten Smit Smith Sorensen Steiner Taylor Thomsen Vermeulen Visser Vos Wagner Walker Weber
Willems Wolf Wouters Young Zimmermann Achterberg Baptiste Carlsson Delgado Engel Ferreira
Gallo Hedlund Ibrahim Jovanovic Kaya Lehmann Marino Nowak Okafor Pereira Quist Romano Sato
Tanaka Ueda Varga Wiegman Yilmaz Zeller Abbott Barnes Chen Doyle Evans Foster Grant Hale
Iversen Joshi Khan Lund Moss Nash Oakley Patel Reyes Stone Tran Vance Ward Ali Park Kim"""
)

TEAMS = [
    "Public Affairs",
    "Partnerships",
    "Investor Relations",
    "Research",
    "Regional Offices",
    "Policy & Regulation",
    "Communications",
    "Business Development",
    "Philanthropy",
    "Customer Success",
    "Legal & Compliance",
    "Events",
]
TEAM_DESCRIPTIONS = {
    "Public Affairs": "Government, regulators and policy makers.",
    "Partnerships": "Corporate and non-profit partners.",
    "Investor Relations": "Investors, banks and analysts.",
    "Research": "Universities and research institutes.",
    "Regional Offices": "Relationships outside the head office's country.",
}

# (country, tld, phone prefix, weight, adjective, cities)
COUNTRIES = [
    ("Netherlands", "nl", "+31", 0.28, "Dutch", ["Amsterdam", "Rotterdam", "Utrecht", "Eindhoven"]),
    ("Germany", "de", "+49", 0.14, "German", ["Berlin", "Munich", "Hamburg", "Cologne"]),
    ("Belgium", "be", "+32", 0.08, "Belgian", ["Brussels", "Antwerp", "Ghent", "Leuven"]),
    ("France", "fr", "+33", 0.08, "French", ["Paris", "Lyon", "Toulouse", "Lille"]),
    ("United Kingdom", "co.uk", "+44", 0.10, "British", ["London", "Manchester", "Bristol"]),
    ("United States", "com", "+1", 0.08, "American", ["Boston", "New York", "Chicago"]),
    ("Denmark", "dk", "+45", 0.04, "Danish", ["Copenhagen", "Aarhus"]),
    ("Sweden", "se", "+46", 0.04, "Swedish", ["Stockholm", "Gothenburg"]),
    ("Spain", "es", "+34", 0.04, "Spanish", ["Madrid", "Barcelona", "Valencia"]),
    ("Italy", "it", "+39", 0.04, "Italian", ["Milan", "Rome", "Turin"]),
    ("Norway", "no", "+47", 0.04, "Norwegian", ["Oslo", "Bergen"]),
    ("Switzerland", "ch", "+41", 0.04, "Swiss", ["Zurich", "Geneva", "Basel"]),
]

# sector: (weight, team preferences, name words)
SECTORS: dict[str, tuple[float, list[str], list[str]]] = {
    "Government": (0.10, ["Public Affairs", "Policy & Regulation"], []),
    "Regulator": (0.04, ["Policy & Regulation", "Public Affairs", "Legal & Compliance"], []),
    "Academia": (0.09, ["Research"], []),
    "Energy": (0.12, ["Partnerships", "Business Development"], ["Energy", "Power", "Renewables"]),
    "Technology": (
        0.13,
        ["Business Development", "Partnerships"],
        ["Systems", "Labs", "Software", "Analytics", "Technologies"],
    ),
    "Investment": (
        0.09,
        ["Investor Relations"],
        ["Capital", "Ventures", "Partners", "Asset Management"],
    ),
    "Banking": (0.05, ["Investor Relations"], ["Bank", "Financial", "Savings Bank"]),
    "Healthcare": (
        0.08,
        ["Partnerships", "Customer Success"],
        ["Health", "Medical", "Pharma", "Biotech"],
    ),
    "Media": (0.06, ["Communications", "Public Affairs"], ["Media", "News", "Broadcasting"]),
    "Foundation": (0.07, ["Philanthropy", "Partnerships"], ["Foundation", "Fund", "Trust"]),
    "NGO": (0.06, ["Partnerships", "Philanthropy"], ["Alliance", "Network", "Initiative"]),
    "Manufacturing": (
        0.06,
        ["Business Development", "Regional Offices"],
        ["Industries", "Manufacturing", "Materials"],
    ),
    "Logistics": (0.05, ["Regional Offices", "Business Development"], ["Logistics", "Freight"]),
}

NAME_PREFIXES = _words(
    """North Blue Silver Helio Terra Nova Vector Aurora Delta Summit Crest Harbor
Evergreen Lumen Quantum Atlas Meridian Orion Polar Granite Cobalt Zephyr Beacon Keystone Pioneer
Riverstone Oak Cedar Falcon Stellar Iron Clear Bright Green Lake Bay Sun Star Wind Rock"""
)
NAME_ROOTS = _words("wind gate point field bridge stone light wave core line path view haven ridge")
MINISTRIES = [
    "Economic Affairs",
    "Finance",
    "Infrastructure",
    "Health",
    "Education",
    "Climate and Energy",
    "Foreign Affairs",
    "Agriculture",
    "Digital Affairs",
    "Social Affairs",
]
REGULATOR_AREAS = ["Energy", "Financial Markets", "Competition", "Data Protection", "Health"]

TITLES_BY_SECTOR = {
    "Government": [
        "Director-General",
        "Senior Policy Adviser",
        "Head of Unit",
        "Chief of Staff",
        "State Secretary",
        "Policy Officer",
    ],
    "Regulator": ["Board Member", "Head of Supervision", "Senior Supervisor", "Legal Counsel"],
    "Academia": ["Professor", "Dean", "Research Director", "Associate Professor", "Postdoc"],
    "Investment": ["Managing Partner", "Investment Director", "Principal", "Analyst"],
    "Banking": ["Head of Sustainable Finance", "Relationship Manager", "Chief Risk Officer"],
}
TITLES = [
    "CEO",
    "CFO",
    "COO",
    "CTO",
    "Director of Strategy",
    "Head of Partnerships",
    "Head of Public Affairs",
    "Programme Manager",
    "Senior Adviser",
    "Board Member",
    "Head of Sustainability",
    "Business Development Manager",
    "Communications Director",
    "Project Lead",
    "Chair",
    "Country Manager",
]
INDEPENDENT_TITLES = ["Independent adviser", "Consultant", "Journalist", "Former minister"]

TAGS = [
    "board",
    "champion",
    "decision-maker",
    "gatekeeper",
    "influencer",
    "sceptic",
    "funding",
    "policy",
    "press",
    "research",
    "alumni",
    "speaker",
    "EU",
    "supplier",
    "customer",
    "new contact",
]

TOPICS = [
    "the energy transition",
    "the funding round",
    "the policy consultation",
    "the annual report",
    "joint research",
    "the board renewal",
    "market entry",
    "the hydrogen pilot",
    "data sharing",
    "the grant application",
    "regional expansion",
    "the sustainability plan",
    "the innovation programme",
    "procurement rules",
    "talent exchange",
    "the EU framework programme",
    "the partnership agreement",
    "the conference programme",
    "the impact study",
    "digital infrastructure",
]

SUBJECTS = {
    "meeting": [
        "Quarterly review with {org}",
        "Lunch with {first}",
        "Strategy session on {topic}",
        "Working meeting on {topic}",
        "Visit to {org}",
        "Breakfast meeting with {first}",
    ],
    "video_call": [
        "Video call on {topic}",
        "Check-in with {first}",
        "Remote workshop on {topic}",
        "Catch-up call with {org}",
    ],
    "call": [
        "Call with {first} about {topic}",
        "Quick call on {topic}",
        "Follow-up call with {first}",
        "Phone catch-up with {org}",
    ],
    "event": [
        "Roundtable on {topic}",
        "{org} annual reception",
        "Conference panel on {topic}",
        "Networking dinner with {first}",
    ],
    "introduction": [
        "Introduced {first} to our {team} team",
        "Introduction of {first} to a research partner",
        "Warm introduction via {first}",
    ],
    "email": [
        "Follow-up on {topic}",
        "Briefing on {topic} sent to {first}",
        "Re: {topic}",
        "Thank-you note to {first}",
        "Shared our note on {topic}",
    ],
    "message": [
        "Message to {first}",
        "Quick note on {topic}",
        "Congratulations to {first}",
    ],
    "other": ["Note on {topic}", "Desk research on {org}"],
}
NOTES = [
    "",
    "",
    "",
    "Positive conversation; they want to stay closely involved.",
    "Agreed to reconnect after the summer.",
    "They raised concerns about timelines; we promised a written update.",
    "Good energy. Potential co-funding if the business case holds.",
    "Shared our latest figures; they will discuss internally.",
    "Asked for an introduction to our research lead.",
    "Mixed reception: budget pressure on their side.",
    "Very constructive; next step is a joint proposal.",
    "Brief exchange, mostly logistics.",
    "They mentioned a leadership change coming up.",
    "Follow-up needed on the open questions from last time.",
]
COMMITMENTS_US = [
    "Send the briefing on {topic}",
    "Share the draft proposal",
    "Introduce {first} to our research lead",
    "Send the meeting summary",
    "Provide figures for {topic}",
    "Invite {first} to the spring event",
]
COMMITMENTS_THEM = [
    "Send comments on {topic}",
    "Confirm the board's position",
    "Share their data for {topic}",
    "Propose dates for a follow-up",
    "Introduce us to their new director",
]
OUTCOME_KINDS = ["deal", "introduction", "funding", "partnership", "knowledge", "other"]
OUTCOME_WEIGHTS = [0.18, 0.30, 0.10, 0.10, 0.26, 0.06]
# (median value, spread of its logarithm, share with no monetary value)
OUTCOME_VALUES = {
    "deal": (40_000, 0.9, 0.0),
    "introduction": (2_000, 0.8, 0.6),
    "funding": (150_000, 0.8, 0.0),
    "partnership": (25_000, 0.9, 0.1),
    "knowledge": (1_500, 0.7, 0.5),
    "other": (3_000, 0.9, 0.4),
}
OUTCOME_TEXT = {
    "deal": "Signed agreement on {topic}",
    "introduction": "Introduction to a new contact via {first}",
    "funding": "Funding awarded for {topic}",
    "partnership": "Partnership formalised around {topic}",
    "knowledge": "Insights shared on {topic}",
    "other": "Support for {topic}",
}
GOALS = [
    "Secure EU funding for the hydrogen programme",
    "Shape the national energy policy consultation",
    "Close the Series C funding round",
    "Build a university research consortium",
    "Expand partnerships in the Nordics",
    "Grow our presence in Germany",
    "Win the smart-grid procurement",
    "Launch the philanthropic matching fund",
    "Strengthen media visibility of our impact",
    "Renew the strategic partnership with the port authority",
    "Establish a regulatory sandbox for data sharing",
    "Double corporate sponsorship of the innovation programme",
]
GOAL_ROLES = ["Decision-maker", "Champion", "Influencer", "Gatekeeper", "Funder", "Adviser"]
OBJECTIVES = [
    "Secure their support for {topic}",
    "Deepen the partnership on {topic}",
    "Rebuild trust after the delays on {topic}",
    "Keep them informed on {topic}",
    "Turn them into a champion for {topic}",
]

KINDS = [k.value for k in Interaction.Kind]  # meeting, video_call, call, event, ...
KIND_SHARE = np.array([0.22, 0.15, 0.18, 0.05, 0.03, 0.27, 0.08, 0.02])
# Duration options in minutes per kind (padded with repeats to equal length).
DURATIONS = np.array(
    [
        [30, 45, 60, 60, 90, 120],  # meeting
        [30, 30, 45, 60, 45, 30],  # video_call
        [10, 15, 20, 30, 15, 10],  # call
        [120, 180, 240, 300, 480, 180],  # event
        [15, 30, 45, 30, 15, 30],  # introduction
        [5, 10, 15, 10, 5, 10],  # email
        [2, 3, 5, 2, 3, 5],  # message
        [30, 15, 60, 30, 15, 30],  # other
    ]
)
# How much an interaction of each kind tends to carry, for value given/received.
KIND_VALUE = np.array([1.15, 1.0, 0.9, 0.8, 1.3, 0.6, 0.4, 0.7])
# Who often comes along: a colleague (more at meetings and events), a second stakeholder.
KIND_SECOND_USER = np.array([0.18, 0.12, 0.04, 0.30, 0.10, 0.03, 0.0, 0.02])
KIND_SECOND_STAKEHOLDER = np.array([0.12, 0.10, 0.03, 0.25, 0.15, 0.05, 0.0, 0.02])
KIND_COMMITMENT = np.array([0.20, 0.16, 0.12, 0.06, 0.10, 0.07, 0.02, 0.03])
KIND_NO_SENTIMENT = np.array([0.05, 0.08, 0.12, 0.15, 0.15, 0.45, 0.60, 0.40])


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _domain(name: str, sector: str, tld: str, taken: set[str]) -> str:
    """A plausible, unique web domain: `northwind.nl`, `dmea.nl` for a ministry."""
    words = name.split()
    if sector in ("Government", "Regulator"):
        # Public bodies go by their initials: Dutch Ministry of Economic Affairs → dmea.
        candidates = ["".join(w[0] for w in words if w[0].isupper()).lower()]
    else:
        candidates = [_slug(words[0])] if sector != "Academia" else []
    candidates.append(_slug(name)[:30])
    for candidate in candidates:
        if f"{candidate}.{tld}" not in taken:
            return f"{candidate}.{tld}"
    n = 2
    while f"{candidates[-1]}{n}.{tld}" in taken:
        n += 1
    return f"{candidates[-1]}{n}.{tld}"


def _rng(seed: int, stream: int) -> np.random.Generator:
    # One independent stream per part of the plan: changing how one part draws
    # leaves the others' data unchanged.
    return np.random.default_rng([seed, stream])


# --- The plan ------------------------------------------------------------------


def _no_rows() -> np.ndarray:
    return np.empty(0, dtype=np.int64)


@dataclass
class Plan:
    """Everything to write, by position: staff, organisations and stakeholders are
    referred to by their index in the plan, mapped to database ids only when written."""

    today: date
    size: DemoSize
    teams: list[str] = field(default_factory=list)
    # staff
    user_first: list[str] = field(default_factory=list)
    user_last: list[str] = field(default_factory=list)
    usernames: list[str] = field(default_factory=list)
    user_teams: list[list[int]] = field(default_factory=list)
    user_director: list[bool] = field(default_factory=list)
    # organisations
    org_name: list[str] = field(default_factory=list)
    org_sector: list[str] = field(default_factory=list)
    org_country: list[int] = field(default_factory=list)
    org_domain: list[str] = field(default_factory=list)
    org_tier: list[int] = field(default_factory=list)
    org_team: list[int] = field(default_factory=list)
    # stakeholders (index arrays; -1 means none)
    sh_first: list[str] = field(default_factory=list)
    sh_last: list[str] = field(default_factory=list)
    sh_email: list[str] = field(default_factory=list)
    sh_title: list[str] = field(default_factory=list)
    sh_phone: list[str] = field(default_factory=list)
    sh_org: np.ndarray = field(default_factory=_no_rows)
    sh_importance: np.ndarray = field(default_factory=_no_rows)
    sh_influence: np.ndarray = field(default_factory=_no_rows)
    sh_interest: np.ndarray = field(default_factory=_no_rows)
    sh_owner: np.ndarray = field(default_factory=_no_rows)
    sh_cadence: np.ndarray = field(default_factory=_no_rows)
    sh_tags: list[tuple[int, int]] = field(default_factory=list)
    sh_consent: np.ndarray = field(default_factory=_no_rows)
    # goals
    goal_title: list[str] = field(default_factory=list)
    goal_status: list[str] = field(default_factory=list)
    goal_owner: list[int] = field(default_factory=list)
    goal_period: list[tuple[date, date]] = field(default_factory=list)
    goal_links: list[tuple[int, int, str]] = field(default_factory=list)
    # links (from, to, kind, strength, created_by)
    links: list[tuple[int, int, str, float, int]] = field(default_factory=list)
    # interactions, chronological
    ix_minutes: np.ndarray = field(
        default_factory=_no_rows
    )  # minutes since `today` 00:00 UTC (negative)
    ix_kind: np.ndarray = field(default_factory=_no_rows)
    ix_user: np.ndarray = field(default_factory=_no_rows)
    ix_user2: np.ndarray = field(default_factory=_no_rows)
    ix_sh: np.ndarray = field(default_factory=_no_rows)
    ix_sh2: np.ndarray = field(default_factory=_no_rows)
    ix_given: np.ndarray = field(default_factory=_no_rows)
    ix_received: np.ndarray = field(default_factory=_no_rows)
    ix_sentiment: np.ndarray = field(default_factory=_no_rows)  # -9 = none
    ix_duration: np.ndarray = field(default_factory=_no_rows)
    ix_cost: np.ndarray = field(default_factory=_no_rows)  # whole currency units
    ix_private: np.ndarray = field(default_factory=_no_rows)
    ix_subject: list[str] = field(default_factory=list)
    ix_notes: list[str] = field(default_factory=list)
    # commitments (index into interactions; days relative to today)
    cm_ix: np.ndarray = field(default_factory=_no_rows)
    cm_us: np.ndarray = field(default_factory=_no_rows)
    cm_due: np.ndarray = field(default_factory=_no_rows)
    cm_status: list[str] = field(default_factory=list)
    cm_completed: np.ndarray = field(default_factory=_no_rows)  # -99999 = none
    cm_text: list[str] = field(default_factory=list)
    # outcomes
    oc_sh: np.ndarray = field(default_factory=_no_rows)
    oc_user: np.ndarray = field(default_factory=_no_rows)
    oc_goal: np.ndarray = field(default_factory=_no_rows)
    oc_day: np.ndarray = field(default_factory=_no_rows)
    oc_kind: list[str] = field(default_factory=list)
    oc_value: np.ndarray = field(default_factory=_no_rows)
    oc_text: list[str] = field(default_factory=list)
    # relationships
    rel_user: np.ndarray = field(default_factory=_no_rows)
    rel_sh: np.ndarray = field(default_factory=_no_rows)
    rel_owner: np.ndarray = field(default_factory=_no_rows)
    rel_status: list[str] = field(default_factory=list)
    rel_started: np.ndarray = field(default_factory=_no_rows)  # day offset
    rel_objective: list[str] = field(default_factory=list)
    rel_desired: list[float | None] = field(default_factory=list)
    rel_review: list[int | None] = field(default_factory=list)

    def org_label(self, s: int) -> str:
        o = int(self.sh_org[s])
        return self.org_name[o] if o >= 0 else self.sh_last[s]


def demo_plan(size: str, seed: int, today: date) -> Plan:
    """The whole demo network as arrays, a pure function of (size, seed, today)."""
    plan = Plan(today=today, size=SIZES[size])
    _plan_staff(plan, seed)
    _plan_organizations(plan, seed)
    _plan_stakeholders(plan, seed)
    _plan_goals(plan, seed)
    _plan_links(plan, seed)
    _plan_interactions(plan, seed)
    return plan


def _plan_staff(plan: Plan, seed: int) -> None:
    r = random.Random(f"{seed}-staff")
    n = plan.size.staff
    plan.teams = TEAMS[: plan.size.teams]
    # The two named demo accounts the README refers to come first.
    named = [("Dana", "Jansen", True, "Public Affairs"), ("Maria", "Garcia", False, "Partnerships")]
    taken: set[str] = set()
    for i in range(n):
        if i < len(named):
            first, last, director, team = named[i]
            team_idx = plan.teams.index(team) if team in plan.teams else 0
        else:
            first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
            director = i < plan.size.directors + 1
            team_idx = (
                (i - 2) % len(plan.teams)
                if i < 2 + len(plan.teams)
                else r.randrange(len(plan.teams))
            )
        username = first.lower()
        if username in taken:
            username = f"{first}.{last}".lower()
        suffix = 2
        base = username
        while username in taken:
            username = f"{base}{suffix}"
            suffix += 1
        taken.add(username)
        teams = [team_idx]
        if len(plan.teams) > 1 and r.random() < 0.12:
            teams.append((team_idx + 1 + r.randrange(len(plan.teams) - 1)) % len(plan.teams))
        plan.user_first.append(first)
        plan.user_last.append(last)
        plan.usernames.append(username)
        plan.user_teams.append(teams)
        plan.user_director.append(director)


def _plan_organizations(plan: Plan, seed: int) -> None:
    r = random.Random(f"{seed}-orgs")
    sectors = list(SECTORS)
    sector_w = [SECTORS[s][0] for s in sectors]
    country_w = [c[3] for c in COUNTRIES]
    names: set[str] = set()
    domains: set[str] = set()
    for _ in range(plan.size.organizations):
        sector = r.choices(sectors, sector_w)[0]
        c = r.choices(range(len(COUNTRIES)), country_w)[0]
        country, tld, _, _, adjective, cities = COUNTRIES[c]
        for attempt in range(50):
            if sector == "Government":
                name = r.choice(
                    [
                        f"{adjective} Ministry of {r.choice(MINISTRIES)}",
                        f"City of {r.choice(cities)}",
                        f"{r.choice(cities)} Regional Authority",
                    ]
                )
            elif sector == "Regulator":
                name = f"{adjective} {r.choice(REGULATOR_AREAS)} Authority"
            elif sector == "Academia":
                name = r.choice(
                    [
                        f"University of {r.choice(cities)}",
                        f"{r.choice(cities)} Institute of Technology",
                        f"{r.choice(LAST_NAMES)} Research Institute",
                    ]
                )
            else:
                word = r.choice(SECTORS[sector][2])
                name = f"{r.choice(NAME_PREFIXES)}{r.choice(NAME_ROOTS)} {word}"
            if attempt > 5:
                name = f"{name} {r.choice(cities)}"
            if attempt > 20:
                name = f"{name} {attempt}"
            if name not in names:
                break
        names.add(name)
        domain = _domain(name, sector, tld, domains)
        domains.add(domain)
        # Regional Offices hold many foreign organisations; otherwise the sector decides.
        prefs = [t for t in SECTORS[sector][1] if t in plan.teams]
        if country != "Netherlands" and "Regional Offices" in plan.teams and r.random() < 0.35:
            team = plan.teams.index("Regional Offices")
        elif prefs:
            team = plan.teams.index(prefs[0] if r.random() < 0.75 else r.choice(prefs))
        else:
            team = r.randrange(len(plan.teams))
        tier = r.choices([1, 2, 3], [0.12, 0.33, 0.55])[0]
        plan.org_name.append(name)
        plan.org_sector.append(sector)
        plan.org_country.append(c)
        plan.org_domain.append(domain)
        plan.org_tier.append(tier)
        plan.org_team.append(team)


def _plan_stakeholders(plan: Plan, seed: int) -> None:
    rng = _rng(seed, 3)
    r = random.Random(f"{seed}-stakeholders")
    n = plan.size.stakeholders
    n_orgs = len(plan.org_name)
    tiers = np.array(plan.org_tier)
    # Strategic organisations have more contacts; sizes otherwise long-tailed.
    org_w = rng.lognormal(0, 0.8, n_orgs) * np.where(tiers == 1, 3.0, np.where(tiers == 2, 1.6, 1))
    org_w /= org_w.sum()
    sh_org = rng.choice(n_orgs, size=n, p=org_w)
    # Every organisation gets at least one contact when there are enough people.
    if n >= n_orgs:
        sh_org[:n_orgs] = rng.permutation(n_orgs)
    independent = rng.random(n) < 0.06
    independent[: min(n, n_orgs)] = False
    sh_org = np.where(independent, -1, sh_org)
    org_tier = np.where(sh_org >= 0, tiers[np.maximum(sh_org, 0)], 3)
    # Few 5s: importance is skewed low and raised a step at strategic organisations.
    imp = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.22, 0.34, 0.27, 0.12, 0.05])
    imp = np.minimum(5, imp + ((org_tier == 1) & (rng.random(n) < 0.45)))
    influence = np.clip(np.rint(imp * 0.6 + rng.normal(1.3, 1.0, n)), 1, 5).astype(int)
    interest = rng.integers(1, 6, size=n)
    cadence = np.array([CADENCE_DAYS_BY_IMPORTANCE[int(i)] for i in imp])
    custom = rng.random(n) < 0.08
    cadence = np.where(custom, rng.choice([14, 21, 30, 60, 90, 180], size=n), cadence)

    members: list[list[int]] = [[] for _ in plan.teams]
    for u, teams in enumerate(plan.user_teams):
        for t in teams:
            members[t].append(u)
    owners = np.full(n, -1)
    for s in range(n):
        o = int(sh_org[s])
        team = plan.org_team[o] if o >= 0 else r.randrange(len(plan.teams))
        pool = members[team] or list(range(plan.size.staff))
        u = r.choice(pool)
        # Directors own fewer relationships than the managers in their team.
        if plan.user_director[u] and r.random() < 0.7:
            u = r.choice(pool)
        owners[s] = u
    unowned = (rng.random(n) < 0.03) & (imp <= 3)
    owners[unowned] = -1

    emails: set[str] = set()
    for s in range(n):
        first, last = r.choice(FIRST_NAMES), r.choice(LAST_NAMES)
        o = int(sh_org[s])
        if o >= 0:
            sector = plan.org_sector[o]
            titles = TITLES_BY_SECTOR.get(sector, TITLES)
            title = r.choice(titles) if r.random() < 0.8 else r.choice(TITLES)
            domain = plan.org_domain[o]
            phone_prefix = COUNTRIES[plan.org_country[o]][2]
        else:
            title = r.choice(INDEPENDENT_TITLES)
            domain = r.choice(["example.com", "example.net", "example.org"])
            phone_prefix = "+31"
        local = f"{first}.{last}".lower()
        email = f"{local}@{domain}"
        k = 2
        while email in emails:
            email = f"{local}{k}@{domain}"
            k += 1
        emails.add(email)
        phone = (
            f"{phone_prefix} {r.randint(10, 99)} {r.randint(100, 999)} {r.randint(1000, 9999)}"
            if r.random() < 0.6
            else ""
        )
        plan.sh_first.append(first)
        plan.sh_last.append(last)
        plan.sh_email.append(email)
        plan.sh_title.append(title)
        plan.sh_phone.append(phone)
        for tag in r.sample(range(len(TAGS)), r.choice([0, 0, 1, 1, 1, 2, 3])):
            plan.sh_tags.append((s, tag))
    plan.sh_org = sh_org
    plan.sh_importance = imp
    plan.sh_influence = influence
    plan.sh_interest = interest
    plan.sh_owner = owners
    plan.sh_cadence = cadence
    plan.sh_consent = rng.random(n) < 0.15


def _plan_goals(plan: Plan, seed: int) -> None:
    r = random.Random(f"{seed}-goals")
    n = plan.size.goals
    directors = [u for u, d in enumerate(plan.user_director) if d]
    candidates = np.flatnonzero(plan.sh_importance >= 3)
    per_goal = int(np.clip(plan.size.stakeholders * 0.02, 4, 60))
    for g in range(n):
        title = GOALS[g % len(GOALS)]
        if g >= len(GOALS):
            title = f"{title} ({2026 + g // len(GOALS)})"
        status = "active"
        if n >= 4 and g == n - 1:
            status = "achieved"
        elif n >= 4 and g == n - 2:
            status = "draft"
        elif n >= 10 and g % 9 == 8:
            status = "abandoned"
        start = plan.today - timedelta(days=r.randint(60, 400))
        end = start + timedelta(days=r.choice([365, 540, 730]))
        if status == "achieved":
            start = plan.today - timedelta(days=600)
            end = plan.today - timedelta(days=r.randint(30, 120))
        owner = (
            directors[g % len(directors)]
            if g % 3 == 0 and directors
            else r.randrange(plan.size.staff)
        )
        plan.goal_title.append(title)
        plan.goal_status.append(status)
        plan.goal_owner.append(owner)
        plan.goal_period.append((start, end))
        chosen = r.sample(list(candidates), min(per_goal, len(candidates)))
        for s in sorted(chosen):
            plan.goal_links.append((g, int(s), r.choice(GOAL_ROLES)))


def _plan_links(plan: Plan, seed: int) -> None:
    r = random.Random(f"{seed}-links")
    n = plan.size.stakeholders
    by_org: dict[int, list[int]] = {}
    for s, o in enumerate(plan.sh_org.tolist()):
        if o >= 0:
            by_org.setdefault(o, []).append(s)
    seen: set[tuple[int, int, str]] = set()

    def add(a: int, b: int, kind: str, low: float, high: float) -> None:
        if a == b or (a, b, kind) in seen:
            return
        seen.add((a, b, kind))
        owner = int(plan.sh_owner[a])
        strength = round(r.uniform(low, high), 2)
        plan.links.append((a, b, kind, strength, owner))

    # Colleagues form a loose tree inside each organisation.
    for people in by_org.values():
        for i in range(1, len(people)):
            if r.random() < 0.8:
                other = people[r.randrange(i)]
                if r.random() < 0.25:
                    add(people[i], other, "reports_to", 0.6, 0.9)
                else:
                    add(people[i], other, "colleague", 0.3, 0.8)
    # A few ties across organisations: advisers, board members, friends.
    important = np.flatnonzero(plan.sh_importance >= 4).tolist() or list(range(n))
    for _ in range(max(1, n * 4 // 100)):
        add(r.randrange(n), r.randrange(n), "advises", 0.4, 0.8)
    for _ in range(max(1, n // 100)):
        add(r.choice(important), r.choice(important), "board", 0.3, 0.7)
    for _ in range(max(1, n // 100)):
        add(r.randrange(n), r.randrange(n), "friend", 0.5, 0.9)
    _plan_industry_ties(plan, seed, add)


# Peers in the same sector know each other across organisations (former
# colleagues, industry bodies): what makes a real stakeholder network dense
# enough for brokers and warm introductions. About 1.5 ties a person put the
# large demo at DESIGN's 250,000-odd edges.
INDUSTRY_TIES_PER_PERSON = 1.5


def _plan_industry_ties(plan: Plan, seed: int, add: Callable[..., None]) -> None:
    rng = _rng(seed, 5)
    sh_org = plan.sh_org
    has_org = np.flatnonzero(sh_org >= 0)
    if len(has_org) < 2:
        return
    sector_of = np.array(plan.org_sector)[sh_org[has_org]]
    for sector in np.unique(sector_of):
        people = has_org[sector_of == sector]
        ties = rng.poisson(INDUSTRY_TIES_PER_PERSON, len(people))
        sources = np.repeat(people, ties)
        targets = people[rng.integers(0, len(people), len(sources))]
        other_org = sh_org[sources] != sh_org[targets]
        for a, b in zip(sources[other_org].tolist(), targets[other_org].tolist(), strict=True):
            add(a, b, "other", 0.2, 0.6)


def _csr(keys: np.ndarray, values: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Values grouped by key: (offsets of length n_keys + 1, values sorted by key)."""
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n_keys)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    return offsets, values[order]


def _pick_other(
    rng: np.random.Generator,
    rows: np.ndarray,
    self_values: np.ndarray,
    offsets: np.ndarray,
    grouped: np.ndarray,
) -> np.ndarray:
    """For each row, a uniformly chosen member of its group other than itself (-1 if none).

    `self_values` must be a member of the group: drawing among the first n-1
    slots and swapping itself for the last slot keeps the choice uniform.
    """
    sizes = offsets[rows + 1] - offsets[rows]
    out = np.full(len(rows), -1)
    ok = sizes >= 2
    j = (rng.random(len(rows)) * np.maximum(sizes - 1, 1)).astype(np.int64)
    cand = grouped[offsets[rows] + j]
    last = grouped[offsets[rows] + np.maximum(sizes - 1, 0)]
    cand = np.where(cand == self_values, last, cand)
    out[ok] = cand[ok]
    return out


def _plan_interactions(plan: Plan, seed: int) -> None:
    rng = _rng(seed, 6)
    r = random.Random(f"{seed}-relationship-pairs")
    n_sh, n_users = plan.size.stakeholders, plan.size.staff
    imp = plan.sh_importance

    # Who works with whom: the owner plus a few supporting colleagues, mostly
    # from the owner's team; about 3% of stakeholders nobody has met yet.
    members: list[list[int]] = [[] for _ in plan.teams]
    for u, teams in enumerate(plan.user_teams):
        for t in teams:
            members[t].append(u)
    uncontacted = rng.random(n_sh) < 0.03
    n_support = np.minimum(rng.poisson(0.2 + 0.3 * (imp - 1)), 4)
    pair_u: list[int] = []
    pair_s: list[int] = []
    for s in range(n_sh):
        if uncontacted[s]:
            continue
        users: list[int] = []
        owner = int(plan.sh_owner[s])
        if owner >= 0:
            users.append(owner)
        o = int(plan.sh_org[s])
        team_pool = members[plan.org_team[o]] if o >= 0 else []
        wanted = int(n_support[s]) + (0 if owner >= 0 else 1)
        for _ in range(wanted):
            pool = team_pool if team_pool and r.random() < 0.7 else None
            u = r.choice(pool) if pool else r.randrange(n_users)
            if u not in users:
                users.append(u)
        pair_u.extend(users)
        pair_s.extend([s] * len(users))
    pu = np.array(pair_u, dtype=np.int64)
    ps = np.array(pair_s, dtype=np.int64)
    n_pairs = len(pu)
    is_owner = plan.sh_owner[ps] == pu

    # Rhythm: a base interval from the cadence, slower for supporting colleagues.
    cadence = plan.sh_cadence[ps].astype(float)
    interval = cadence * rng.lognormal(0, 0.3, n_pairs) * np.where(is_owner, 1.0, 2.2)
    start = np.where(
        rng.random(n_pairs) < 0.6,
        -HISTORY_DAYS + rng.uniform(0, 30, n_pairs),
        rng.uniform(-HISTORY_DAYS + 30, -60, n_pairs),
    )
    end = np.zeros(n_pairs)
    # Some relationships fade out (they become dormant) ...
    fading = (rng.random(n_pairs) < 0.12) & ~(is_owner & (imp[ps] >= 4))
    end = np.where(fading, start + rng.uniform(0.25, 0.7, n_pairs) * (0 - start), end)
    # ... and some stakeholders were neglected recently: overdue on the dashboards.
    neglected = rng.random(n_sh) < np.where(imp >= 4, 0.15, 0.08)
    neglect_end = -plan.sh_cadence * rng.uniform(1.3, 3.0, n_sh)
    end = np.where(neglected[ps], np.minimum(end, neglect_end[ps]), end)
    end = np.maximum(end, start + 10)
    expected = (end - start) / interval
    scale = plan.size.interactions / expected.sum()
    counts = np.maximum(1, rng.poisson(expected * scale))
    total = int(counts.sum())

    pair = np.repeat(np.arange(n_pairs), counts)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    k = np.arange(total) - offsets[pair]
    pos = (k + 0.5 + rng.normal(0, 0.3, total)) / counts[pair]
    pos = np.clip(pos, 0.0, 0.999)
    t = start[pair] + pos * (end[pair] - start[pair])
    day = np.minimum(np.floor(t).astype(np.int64), -1)
    # Working days: Saturday moves back to Friday, Sunday back two days.
    weekday = (plan.today.weekday() + day) % 7
    day = day - np.where(weekday == 5, 1, 0) - np.where(weekday == 6, 2, 0)

    # Per-relationship style: preferred kinds, give/take bias, mood.
    kind_p = rng.dirichlet(KIND_SHARE * 12, size=n_pairs)
    kind_cum = np.cumsum(kind_p, axis=1)
    kind = (rng.random(total)[:, None] > kind_cum[pair]).sum(axis=1)
    kind = np.minimum(kind, len(KINDS) - 1)
    style = rng.choice(4, size=n_pairs, p=[0.60, 0.22, 0.13, 0.05])
    give_mean = np.array([2.0, 2.8, 1.0, 3.2])[style]
    take_mean = np.array([2.0, 1.0, 2.8, 0.3])[style]
    kv = KIND_VALUE[kind]
    given = np.clip(np.rint(rng.normal(give_mean[pair] * kv, 0.9)), 0, 5).astype(int)
    received = np.clip(np.rint(rng.normal(take_mean[pair] * kv, 0.9)), 0, 5).astype(int)
    mood = rng.normal(0.6, 0.4, n_pairs)
    # Negative streaks: a stretch of a relationship (sometimes its latest) goes sour.
    streak = rng.random(n_pairs) < 0.14
    streak_start = rng.uniform(0, 0.85, n_pairs)
    streak_start = np.where(rng.random(n_pairs) < 0.3, 0.8, streak_start)
    streak_len = rng.uniform(0.1, 0.25, n_pairs)
    in_streak = (
        streak[pair] & (pos >= streak_start[pair]) & (pos < streak_start[pair] + streak_len[pair])
    )
    sentiment = np.clip(np.rint(rng.normal(mood[pair] - 1.7 * in_streak, 0.7)), -2, 2).astype(int)
    sentiment = np.where(rng.random(total) < KIND_NO_SENTIMENT[kind], -9, sentiment)
    duration = DURATIONS[kind, rng.integers(0, DURATIONS.shape[1], total)]
    cost = np.where(
        (kind == 0) & (rng.random(total) < 0.10),
        rng.integers(20, 150, total),
        np.where((kind == 3) & (rng.random(total) < 0.5), rng.integers(100, 900, total), 0),
    )
    private = rng.random(total) < 0.03
    hour = rng.integers(8, 17, total)
    minute = np.where(kind <= 4, rng.choice([0, 15, 30, 45], total), rng.integers(0, 60, total))
    minutes = day * 1440 + hour * 60 + minute

    # Company: a colleague who also knows the stakeholder, a colleague of theirs.
    user = pu[pair]
    sh = ps[pair]
    u_off, u_grouped = _csr(ps, pu, n_sh)
    user2 = _pick_other(rng, sh, user, u_off, u_grouped)
    user2 = np.where(rng.random(total) < KIND_SECOND_USER[kind], user2, -1)
    org = plan.sh_org[sh]
    has_org = org >= 0
    o_keys = plan.sh_org[plan.sh_org >= 0]
    o_vals = np.flatnonzero(plan.sh_org >= 0)
    o_off, o_grouped = _csr(o_keys, o_vals, len(plan.org_name))
    sh2 = np.full(total, -1)
    sh2[has_org] = _pick_other(rng, org[has_org], sh[has_org], o_off, o_grouped)
    sh2 = np.where(rng.random(total) < KIND_SECOND_STAKEHOLDER[kind], sh2, -1)

    # Commitments made in some interactions, mostly kept by reliable partners.
    reliability = np.where(
        rng.random(n_pairs) < 0.1, rng.beta(3, 3, n_pairs), rng.beta(9, 1.3, n_pairs)
    )
    has_cm = rng.random(total) < KIND_COMMITMENT[kind]
    cm_rows = np.flatnonzero(has_cm)
    n_cm = len(cm_rows)
    cm_day = day[cm_rows]
    cm_due = cm_day + rng.choice([3, 7, 14, 14, 21, 30, 45, 60], n_cm)
    roll = rng.random(n_cm)
    keep = rng.random(n_cm) < reliability[pair[cm_rows]]
    recent = cm_due > -45
    status = np.where(
        cm_due >= 0,
        0,  # open, due in the future
        np.where(
            roll < 0.04,
            3,  # cancelled
            np.where((recent & (roll < 0.12)) | (roll > 0.99), 0, np.where(keep, 1, 2)),
        ),
    )
    completed = np.select(
        [status == 1, status == 2, status == 3],
        [
            np.clip(cm_due + rng.integers(-5, 4, n_cm), cm_day, -1),
            np.clip(cm_due + rng.integers(3, 21, n_cm), cm_day, -1),
            np.clip(cm_day + rng.integers(1, 11, n_cm), cm_day, -1),
        ],
        -99999,
    )
    cm_us = rng.random(n_cm) < 0.6

    # Outcomes: now and then a relationship pays off.
    oc_rate = 0.05 * counts * (imp[ps] / 3.0)
    oc_counts = rng.poisson(oc_rate)
    oc_pair = np.repeat(np.arange(n_pairs), oc_counts)
    n_oc = len(oc_pair)
    oc_pick = offsets[oc_pair] + (rng.random(n_oc) * counts[oc_pair]).astype(np.int64)
    # An outcome follows the interaction that led to it by up to three weeks.
    oc_day = day[oc_pick] + rng.integers(0, 22, n_oc)
    oc_day = np.where(oc_day > -1, day[oc_pick], oc_day)
    oc_kind_idx = rng.choice(len(OUTCOME_KINDS), size=n_oc, p=OUTCOME_WEIGHTS)
    oc_value = np.zeros(n_oc)
    for i, name in enumerate(OUTCOME_KINDS):
        median, spread, zero_share = OUTCOME_VALUES[name]
        rows = oc_kind_idx == i
        values = np.round(median * rng.lognormal(0, spread, rows.sum()), -2)
        values[rng.random(rows.sum()) < zero_share] = 0
        oc_value[rows] = values
    oc_credit = np.where(rng.random(n_oc) < 0.9, pu[oc_pair], -1)
    goal_of = np.full(n_sh, -1)
    for g, s, _role in plan.goal_links:
        if goal_of[s] < 0 and plan.goal_status[g] != "draft":
            goal_of[s] = g
    oc_goal = np.where(rng.random(n_oc) < 0.6, goal_of[ps[oc_pair]], -1)

    # Chronological order: ids then follow time, as they would in real use.
    order = np.lexsort((np.arange(total), minutes))
    rank = np.empty(total, dtype=np.int64)
    rank[order] = np.arange(total)
    plan.ix_minutes = minutes[order]
    plan.ix_kind = kind[order]
    plan.ix_user = user[order]
    plan.ix_user2 = user2[order]
    plan.ix_sh = sh[order]
    plan.ix_sh2 = sh2[order]
    plan.ix_given = given[order]
    plan.ix_received = received[order]
    plan.ix_sentiment = sentiment[order]
    plan.ix_duration = duration[order]
    plan.ix_cost = cost[order]
    plan.ix_private = private[order]
    cm_order = np.lexsort((rank[cm_rows], cm_due))
    plan.cm_ix = rank[cm_rows][cm_order]
    plan.cm_us = cm_us[cm_order]
    plan.cm_due = cm_due[cm_order]
    plan.cm_status = [("open", "kept", "broken", "cancelled")[s] for s in status[cm_order]]
    plan.cm_completed = completed[cm_order]
    plan.oc_sh = ps[oc_pair]
    plan.oc_user = oc_credit
    plan.oc_goal = oc_goal
    plan.oc_day = oc_day
    plan.oc_kind = [OUTCOME_KINDS[i] for i in oc_kind_idx]
    plan.oc_value = oc_value

    # Texts: cheap per-row string formatting from small pools.
    text_rng = random.Random(f"{seed}-texts")
    team_names = plan.teams
    subjects = []
    notes = []
    topic_idx = rng.integers(0, len(TOPICS), total)
    for i in range(total):
        s = int(plan.ix_sh[i])
        kind_name = KINDS[plan.ix_kind[i]]
        template = text_rng.choice(SUBJECTS[kind_name])
        subjects.append(
            template.format(
                org=plan.org_label(s),
                first=plan.sh_first[s],
                topic=TOPICS[topic_idx[i]],
                team=team_names[plan.user_teams[plan.ix_user[i]][0]],
            )[:200]
        )
        note = text_rng.choice(NOTES)
        if plan.ix_private[i]:
            note = f"Confidential. {note or 'Personal circumstances discussed.'}"
        notes.append(note)
    plan.ix_subject = subjects
    plan.ix_notes = notes
    for i in range(n_cm):
        s = int(plan.ix_sh[plan.cm_ix[i]])
        pool = COMMITMENTS_US if plan.cm_us[i] else COMMITMENTS_THEM
        plan.cm_text.append(
            text_rng.choice(pool).format(first=plan.sh_first[s], topic=text_rng.choice(TOPICS))
        )
    for i in range(n_oc):
        s = int(plan.oc_sh[i])
        plan.oc_text.append(
            OUTCOME_TEXT[plan.oc_kind[i]].format(
                first=plan.sh_first[s], topic=text_rng.choice(TOPICS)
            )
        )

    # Relationships: every (user, stakeholder) pair that met, earliest meeting first.
    codes = [plan.ix_user * n_sh + plan.ix_sh]
    when = [plan.ix_minutes]
    for uu, ss in (
        (plan.ix_user2, plan.ix_sh),
        (plan.ix_user, plan.ix_sh2),
        (plan.ix_user2, plan.ix_sh2),
    ):
        ok = (uu >= 0) & (ss >= 0)
        codes.append(uu[ok] * n_sh + ss[ok])
        when.append(plan.ix_minutes[ok])
    all_codes = np.concatenate(codes)
    all_when = np.concatenate(when)
    o = np.lexsort((all_when, all_codes))
    sorted_codes = all_codes[o]
    uniq, first_idx = np.unique(sorted_codes, return_index=True)
    last_idx = np.concatenate([first_idx[1:], [len(sorted_codes)]]) - 1
    first_day = np.floor_divide(all_when[o][first_idx], 1440)
    last_day = np.floor_divide(all_when[o][last_idx], 1440)
    rel_u = uniq // n_sh
    rel_s = uniq % n_sh
    n_rel = len(uniq)
    rel_owner = plan.sh_owner[rel_s] == rel_u
    ended = (last_day < -450) & (rng.random(n_rel) < 0.4)
    # Dormant: no contact for six months and at least twice the stakeholder's cadence.
    dormant = last_day < np.minimum(-180, -2 * plan.sh_cadence[rel_s])
    plan.rel_user = rel_u
    plan.rel_sh = rel_s
    plan.rel_owner = rel_owner
    plan.rel_status = np.where(ended, "ended", np.where(dormant, "dormant", "active")).tolist()
    plan.rel_started = first_day
    key = imp[rel_s] >= 4
    with_plan = (rng.random(n_rel) < np.where(rel_owner & key, 0.6, 0.08)) & ~ended
    desired = np.round(rng.uniform(0.5, 0.9, n_rel), 1)
    review = rng.integers(-40, 90, n_rel)
    for i in range(n_rel):
        if with_plan[i]:
            plan.rel_objective.append(
                text_rng.choice(OBJECTIVES).format(topic=text_rng.choice(TOPICS))
            )
            plan.rel_desired.append(float(desired[i]))
            plan.rel_review.append(int(review[i]))
        else:
            plan.rel_objective.append("")
            plan.rel_desired.append(None)
            plan.rel_review.append(None)


# --- Writing -------------------------------------------------------------------


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _insert_rows(
    model: type[models.Model],
    field_names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    batch: int = 5_000,
) -> None:
    """Insert plain rows into a model's table: COPY on PostgreSQL, batched INSERTs elsewhere.

    `field_names` are model field names (for a through model, its FK names);
    values are Python values as the model field takes them.
    """
    fields = [model._meta.get_field(name) for name in field_names]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        if _is_postgres():
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        # Other databases: let each field adapt its values (dates, decimals).
        needs_prep = [
            isinstance(f, models.DateField | models.DecimalField | models.DateTimeField)
            for f in fields
        ]
        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"
        chunk: list[list[Any]] = []
        for row in rows:
            chunk.append(
                [
                    f.get_db_prep_save(v, connection) if prep else v
                    for f, prep, v in zip(fields, needs_prep, row, strict=True)
                ]
            )
            if len(chunk) >= batch:
                cursor.executemany(sql, chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)


def _next_id(model: type[models.Model]) -> int:
    return (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1


def _reset_sequences(model_list: list[type[models.Model]]) -> None:
    # Rows inserted with explicit ids leave PostgreSQL's sequences behind.
    statements = connection.ops.sequence_reset_sql(no_style(), model_list)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


# Tables written in bulk whose foreign keys are checked in one pass (PostgreSQL).
BULK_MODELS: list[type[models.Model]] = [
    Stakeholder,
    Stakeholder.tags.through,
    StakeholderLink,
    Interaction,
    Interaction.internal_participants.through,
    Interaction.stakeholders.through,
    Commitment,
    Outcome,
    Relationship,
]


@contextmanager
def _foreign_keys_checked_once(model_list: list[type[models.Model]]) -> Iterator[None]:
    """On PostgreSQL, drop these tables' foreign keys and add them back at the end.

    Django's foreign keys are deferred triggers: each inserted row queues a check
    that runs at commit, about a minute for the large network. Adding the
    constraint back validates all rows in one join per constraint instead. All of
    it happens in the caller's transaction, so a failure leaves the schema as it was.
    """
    if not _is_postgres():
        yield
        return
    tables = [m._meta.db_table for m in model_list]
    with connection.cursor() as cursor:
        # ALTER TABLE refuses tables with checks still pending in this transaction.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) "
            "ORDER BY 1, 2",
            [tables],
        )
        constraints = cursor.fetchall()
        for table, name, _definition in constraints:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    yield
    with connection.cursor() as cursor:
        for table, name, definition in constraints:
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
            )


DOMAIN_MODELS: list[type[models.Model]] = [
    AuthenticityPulse,
    Commitment,
    Outcome,
    StakeholderLink,
    GoalStakeholder,
    Interaction.internal_participants.through,
    Interaction.stakeholders.through,
    Interaction,
    Relationship,
    StrategicGoal,
    Stakeholder.tags.through,
    Stakeholder,
    Organization,
    Tag,
    Team.members.through,
    Team,
]


def demo_data_exists() -> bool:
    return Stakeholder.objects.exists()


def _dependent_models(roots: list[type[models.Model]]) -> list[type[models.Model]]:
    """Models of any app whose rows point at the roots' rows, directly or through others.

    Ordered so that a model comes before the models it points at.
    """
    found: list[type[models.Model]] = []
    targets = set(roots)
    changed = True
    while changed:
        changed = False
        for model in apps.get_models(include_auto_created=True):
            if model in targets:
                continue
            if any(
                f.is_relation and f.concrete and f.related_model in targets
                for f in model._meta.get_fields()
            ):
                found.append(model)
                targets.add(model)
                changed = True
    return list(reversed(found))


def demo_flush() -> None:
    """Delete the domain data and every user but superusers (in the caller's transaction).

    Rows are removed with plain SQL, not model by model through Django's delete():
    that would send a signal per row (score markers for a million interactions)
    for data that is about to be replaced anyway.
    """
    with connection.cursor() as cursor:
        if _is_postgres():
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in DOMAIN_MODELS)
            # Django's foreign keys are deferred: checks pending from earlier writes in
            # this transaction would make TRUNCATE fail, so run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            # CASCADE also empties derived tables that point at these (stored scores).
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            # Foreign keys are checked at commit, when every dependent row is gone too.
            for model in _dependent_models(DOMAIN_MODELS) + DOMAIN_MODELS:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    User.objects.filter(is_superuser=False).delete()


def demo_seed(
    *,
    size: str,
    seed: int,
    today: date | None = None,
    flush: bool = False,
    password: str = DEMO_PASSWORD,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Build the demo network; refuse (DemoDataExists) when data exists and not `flush`."""
    started = time.perf_counter()
    timings: dict[str, float] = {}

    clock = [started]

    def step(name: str) -> None:
        now = time.perf_counter()
        timings[name] = round(now - clock[0], 2)
        clock[0] = now
        if progress:
            progress(f"{name}: {timings[name]:.1f} s")

    if size not in SIZES:
        raise ValueError(f"Unknown size {size!r}; choose one of {', '.join(SIZES)}.")
    if demo_data_exists() and not flush:
        raise DemoDataExists(
            f"The database already holds {Stakeholder.objects.count()} stakeholders. "
            "Run with --flush to delete the domain data and all non-superuser "
            "accounts first."
        )
    today = today or datetime.now(UTC).date()
    plan = demo_plan(size, seed, today)
    step("plan")
    with transaction.atomic():
        if flush:
            demo_flush()
            step("flush")
        clashes = sorted(
            User.objects.filter(username__in=plan.usernames).values_list("username", flat=True)
        )
        if clashes:
            raise DemoDataExists(
                f"Accounts {', '.join(clashes[:5])} already exist; run with --flush "
                "(superusers are kept: rename them) or remove them first."
            )
        with _foreign_keys_checked_once(BULK_MODELS):
            logins = _write(plan, password, step)
        step("foreign key checks")
    step("commit")
    # Pages opened right after seeding must not plan from empty-table estimates.
    statistics_refresh([*BULK_MODELS, Organization, User, User.groups.through])
    step("statistics")
    counts = {
        "teams": len(plan.teams),
        "staff": plan.size.staff,
        "organizations": len(plan.org_name),
        "stakeholders": plan.size.stakeholders,
        "interactions": len(plan.ix_minutes),
        "relationships": len(plan.rel_user),
        "commitments": len(plan.cm_ix),
        "outcomes": len(plan.oc_sh),
        "goals": len(plan.goal_title),
        "stakeholder_links": len(plan.links),
    }
    return DemoResult(
        counts=counts,
        logins=logins,
        password=password,
        seconds=round(time.perf_counter() - started, 2),
        timings=timings,
    )


def _write(plan: Plan, password: str, step: Callable[[str], None]) -> list[DemoLogin]:
    today = plan.today
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)

    def day(offset: int) -> date:
        return today + timedelta(days=int(offset))

    # Staff: one password hash for all (hashing 2,000 times with Argon2 takes minutes).
    hashed = make_password(password)
    manager_group, _ = Group.objects.get_or_create(name=MANAGER)
    director_group, _ = Group.objects.get_or_create(name=DIRECTOR)
    uid0 = _next_id(User)
    users = [
        User(
            id=uid0 + i,
            username=plan.usernames[i],
            first_name=plan.user_first[i],
            last_name=plan.user_last[i],
            email=f"{plan.usernames[i]}@rapport.example",
            password=hashed,
            is_active=True,
        )
        for i in range(plan.size.staff)
    ]
    User.objects.bulk_create(users, batch_size=1000)
    memberships = [
        User.groups.through(user_id=uid0 + i, group_id=manager_group.pk) for i in range(len(users))
    ]
    memberships += [
        User.groups.through(user_id=uid0 + i, group_id=director_group.pk)
        for i in range(len(users))
        if plan.user_director[i]
    ]
    User.groups.through.objects.bulk_create(memberships, batch_size=2000)
    tid0 = _next_id(Team)
    Team.objects.bulk_create(
        [
            Team(id=tid0 + i, name=name, description=TEAM_DESCRIPTIONS.get(name, ""))
            for i, name in enumerate(plan.teams)
        ]
    )
    Team.members.through.objects.bulk_create(
        [
            Team.members.through(team_id=tid0 + team, user_id=uid0 + u)
            for u, teams in enumerate(plan.user_teams)
            for team in teams
        ],
        batch_size=2000,
    )
    step("staff")

    oid0 = _next_id(Organization)
    Organization.objects.bulk_create(
        [
            Organization(
                id=oid0 + i,
                name=plan.org_name[i],
                sector=plan.org_sector[i],
                country=COUNTRIES[plan.org_country[i]][0],
                website=f"https://www.{plan.org_domain[i]}",
                tier=plan.org_tier[i],
            )
            for i in range(len(plan.org_name))
        ],
        batch_size=2000,
    )
    tag0 = _next_id(Tag)
    Tag.objects.bulk_create([Tag(id=tag0 + i, name=name) for i, name in enumerate(TAGS)])
    sid0 = _next_id(Stakeholder)
    sh_org = plan.sh_org.tolist()
    sh_owner = plan.sh_owner.tolist()
    consent = plan.sh_consent.tolist()
    consent_day = day(-HISTORY_DAYS - 30)
    stamp = midnight - timedelta(days=HISTORY_DAYS)
    _insert_rows(
        Stakeholder,
        [
            "id",
            "name",
            "organization",
            "title",
            "email",
            "phone",
            "importance",
            "influence",
            "interest",
            "owner",
            "cadence_days",
            "legal_basis",
            "consent_date",
            "data_source",
            "notes",
            "created_at",
            "updated_at",
            "name_key",
            "email_key",
            "surname_key",
        ],
        (
            (
                sid0 + s,
                f"{plan.sh_first[s]} {plan.sh_last[s]}",
                oid0 + sh_org[s] if sh_org[s] >= 0 else None,
                plan.sh_title[s],
                plan.sh_email[s],
                plan.sh_phone[s],
                int(plan.sh_importance[s]),
                int(plan.sh_influence[s]),
                int(plan.sh_interest[s]),
                uid0 + sh_owner[s] if sh_owner[s] >= 0 else None,
                # Written without save(), which would default the cadence by importance.
                int(plan.sh_cadence[s]),
                "consent" if consent[s] else "legitimate_interest",
                consent_day if consent[s] else None,
                "Demo data (seed_demo)",
                "",
                stamp,
                stamp,
                # Written without save() or bulk_create(), which fill the matching keys.
                match_key(f"{plan.sh_first[s]} {plan.sh_last[s]}"),
                email_key(plan.sh_email[s]),
                surname_sort_key(f"{plan.sh_first[s]} {plan.sh_last[s]}"),
            )
            for s in range(plan.size.stakeholders)
        ),
    )
    _insert_rows(
        Stakeholder.tags.through,
        ["stakeholder", "tag"],
        ((sid0 + s, tag0 + tag) for s, tag in plan.sh_tags),
    )
    step("organizations and stakeholders")

    gid0 = _next_id(StrategicGoal)
    StrategicGoal.objects.bulk_create(
        [
            StrategicGoal(
                id=gid0 + g,
                title=plan.goal_title[g],
                description=f"{plan.goal_title[g]}: the relationships that decide it.",
                owner_id=uid0 + plan.goal_owner[g],
                period_start=plan.goal_period[g][0],
                period_end=plan.goal_period[g][1],
                status=plan.goal_status[g],
            )
            for g in range(len(plan.goal_title))
        ]
    )
    GoalStakeholder.objects.bulk_create(
        [
            GoalStakeholder(goal_id=gid0 + g, stakeholder_id=sid0 + s, role=role)
            for g, s, role in plan.goal_links
        ],
        batch_size=2000,
    )
    _insert_rows(
        StakeholderLink,
        [
            "from_stakeholder",
            "to_stakeholder",
            "kind",
            "strength",
            "created_by",
            "created_at",
            "updated_at",
        ],
        (
            (sid0 + a, sid0 + b, kind, strength, uid0 + by if by >= 0 else None, stamp, stamp)
            for a, b, kind, strength, by in plan.links
        ),
    )
    step("goals and links")

    iid0 = _next_id(Interaction)
    when = [midnight + timedelta(minutes=int(m)) for m in plan.ix_minutes]
    n_ix = len(when)
    kinds = plan.ix_kind.tolist()
    users_ = plan.ix_user.tolist()
    given = plan.ix_given.tolist()
    received = plan.ix_received.tolist()
    sentiment = plan.ix_sentiment.tolist()
    duration = plan.ix_duration.tolist()
    cost = [Decimal(c) for c in plan.ix_cost.tolist()]
    private = plan.ix_private.tolist()
    _insert_rows(
        Interaction,
        [
            "id",
            "occurred_at",
            "kind",
            "subject",
            "notes",
            "value_given",
            "value_received",
            "sentiment",
            "duration_minutes",
            "cost",
            "private",
            "created_by",
            "version",
            "created_at",
            "updated_at",
        ],
        (
            (
                iid0 + i,
                when[i],
                KINDS[kinds[i]],
                plan.ix_subject[i],
                plan.ix_notes[i],
                given[i],
                received[i],
                None if sentiment[i] == -9 else sentiment[i],
                duration[i],
                cost[i],
                private[i],
                uid0 + users_[i],
                1,
                when[i],
                when[i],
            )
            for i in range(n_ix)
        ),
    )
    step("interactions")
    through_users = Interaction.internal_participants.through
    through_sh = Interaction.stakeholders.through
    _insert_rows(
        through_users,
        ["interaction", "user"],
        _participant_rows(iid0, uid0, plan.ix_user, plan.ix_user2),
    )
    _insert_rows(
        through_sh,
        ["interaction", "stakeholder"],
        _participant_rows(iid0, sid0, plan.ix_sh, plan.ix_sh2),
    )
    step("participants")

    cm_ix = plan.cm_ix.tolist()
    cm_due = plan.cm_due.tolist()
    cm_done = plan.cm_completed.tolist()
    _insert_rows(
        Commitment,
        [
            "stakeholder",
            "responsible",
            "direction",
            "description",
            "due_date",
            "status",
            "completed_on",
            "interaction",
            "created_by",
            "created_at",
            "updated_at",
        ],
        (
            (
                sid0 + int(plan.ix_sh[cm_ix[i]]),
                uid0 + users_[cm_ix[i]],
                "us" if plan.cm_us[i] else "them",
                plan.cm_text[i],
                day(cm_due[i]),
                plan.cm_status[i],
                None if cm_done[i] == -99999 else day(cm_done[i]),
                iid0 + cm_ix[i],
                uid0 + users_[cm_ix[i]],
                when[cm_ix[i]],
                when[cm_ix[i]],
            )
            for i in range(len(cm_ix))
        ),
    )
    oc_user = plan.oc_user.tolist()
    oc_goal = plan.oc_goal.tolist()
    _insert_rows(
        Outcome,
        [
            "stakeholder",
            "credited_to",
            "goal",
            "kind",
            "value",
            "occurred_on",
            "description",
            "created_by",
            "created_at",
            "updated_at",
        ],
        (
            (
                sid0 + int(plan.oc_sh[i]),
                uid0 + oc_user[i] if oc_user[i] >= 0 else None,
                gid0 + oc_goal[i] if oc_goal[i] >= 0 else None,
                plan.oc_kind[i],
                Decimal(int(plan.oc_value[i])),
                day(plan.oc_day[i]),
                plan.oc_text[i],
                uid0 + oc_user[i] if oc_user[i] >= 0 else None,
                midnight + timedelta(days=int(plan.oc_day[i]), hours=12),
                midnight + timedelta(days=int(plan.oc_day[i]), hours=12),
            )
            for i in range(len(oc_user))
        ),
    )
    step("commitments and outcomes")

    rel_u = plan.rel_user.tolist()
    rel_s = plan.rel_sh.tolist()
    rel_started = plan.rel_started.tolist()
    _insert_rows(
        Relationship,
        [
            "user",
            "stakeholder",
            "role",
            "status",
            "started_on",
            "objective",
            "desired_strength",
            "next_review",
            "created_at",
            "updated_at",
        ],
        (
            (
                uid0 + rel_u[i],
                sid0 + rel_s[i],
                "owner" if plan.rel_owner[i] else "supporting",
                plan.rel_status[i],
                day(rel_started[i]),
                plan.rel_objective[i],
                plan.rel_desired[i],
                day(plan.rel_review[i]) if plan.rel_review[i] is not None else None,
                midnight + timedelta(days=rel_started[i]),
                midnight + timedelta(days=rel_started[i]),
            )
            for i in range(len(rel_u))
        ),
    )
    _reset_sequences([User, Team, Organization, Tag, Stakeholder, StrategicGoal, Interaction])
    step("relationships")

    logins = []
    for i in range(plan.size.staff):
        logins.append(
            DemoLogin(
                username=plan.usernames[i],
                name=f"{plan.user_first[i]} {plan.user_last[i]}",
                role=DIRECTOR if plan.user_director[i] else MANAGER,
                teams=[plan.teams[team] for team in plan.user_teams[i]],
            )
        )
    return logins


def _participant_rows(
    id0: int, other0: int, first: np.ndarray, second: np.ndarray
) -> Iterable[tuple[int, int]]:
    for i, (a, b) in enumerate(zip(first.tolist(), second.tolist(), strict=True)):
        yield (id0 + i, other0 + a)
        if b >= 0:
            yield (id0 + i, other0 + b)


# --- Fingerprint ---------------------------------------------------------------


def demo_fingerprint() -> str:
    """A hash of the domain data that ignores ids and timestamps of insertion.

    Two databases seeded with the same size, seed and day give the same value.
    """
    digest = hashlib.sha256()

    def feed(rows: Iterable[Any]) -> None:
        for row in sorted(repr(r) for r in rows):
            digest.update(row.encode())
            digest.update(b"\n")

    feed(
        User.objects.filter(is_superuser=False).values_list(
            "username", "first_name", "last_name", "email"
        )
    )
    feed(User.groups.through.objects.values_list("user__username", "group__name"))
    feed(Team.members.through.objects.values_list("team__name", "user__username"))
    feed(Organization.objects.values_list("name", "sector", "country", "website", "tier"))
    feed(
        Stakeholder.objects.values_list(
            "name",
            "organization__name",
            "title",
            "email",
            "phone",
            "importance",
            "influence",
            "interest",
            "owner__username",
            "cadence_days",
            "legal_basis",
        )
    )
    feed(Stakeholder.tags.through.objects.values_list("stakeholder__email", "tag__name"))
    internal: dict[int, list[str]] = {}
    for ix, username in Interaction.internal_participants.through.objects.values_list(
        "interaction_id", "user__username"
    ):
        internal.setdefault(ix, []).append(username)
    external: dict[int, list[str]] = {}
    for ix, email in Interaction.stakeholders.through.objects.values_list(
        "interaction_id", "stakeholder__email"
    ):
        external.setdefault(ix, []).append(email)
    feed(
        (
            row[1:],
            sorted(internal.get(row[0], [])),
            sorted(external.get(row[0], [])),
        )
        for row in Interaction.objects.values_list(
            "pk",
            "occurred_at",
            "kind",
            "subject",
            "notes",
            "value_given",
            "value_received",
            "sentiment",
            "duration_minutes",
            "cost",
            "private",
            "created_by__username",
        )
    )
    feed(
        Commitment.objects.values_list(
            "stakeholder__email",
            "responsible__username",
            "direction",
            "description",
            "due_date",
            "status",
            "completed_on",
            "interaction__occurred_at",
        )
    )
    feed(
        Outcome.objects.values_list(
            "stakeholder__email",
            "credited_to__username",
            "goal__title",
            "kind",
            "value",
            "occurred_on",
            "description",
        )
    )
    feed(
        Relationship.objects.values_list(
            "user__username",
            "stakeholder__email",
            "role",
            "status",
            "started_on",
            "objective",
            "desired_strength",
            "next_review",
        )
    )
    feed(
        StakeholderLink.objects.values_list(
            "from_stakeholder__email", "to_stakeholder__email", "kind", "strength"
        )
    )
    feed(
        StrategicGoal.objects.values_list(
            "title", "status", "owner__username", "period_start", "period_end"
        )
    )
    feed(GoalStakeholder.objects.values_list("goal__title", "stakeholder__email", "role"))
    return digest.hexdigest()
