"""The scale organization (directors, managers, team leads, agents under the demo's director) and
its customers, written in bulk."""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from empower.models import Customer, Employee, Role, Team
from empower.services import employee_paths_rebuild
from feedback.management.scale.bulk import IdPool, Progress, Writer

USERNAME_PREFIX = "scale-"  # the demo's names (alice, bob, …) can never start with it
# How many report to one person, level by level: a director leads ~8 managers, a manager ~8 team
# leads (one team per manager), a team lead 10-12 agents.
SPAN = {"director": 8, "manager": 8, "team_lead": 11}
ROLE_NAMES = {"director": "director", "manager": "manager", "team_lead": "lead", "agent": "agent"}
LANGUAGES = (("en", 50), ("pl", 15), ("ru", 12), ("zh-hans", 13), ("is", 10))
NAMES = {
    "en": (["Olivia", "James", "Amelia", "Noah", "Isla", "Oliver", "Grace", "Henry"],
           ["Smith", "Jones", "Taylor", "Brown", "Evans", "Walker", "Wright", "Hughes"]),
    "pl": (["Zofia", "Jan", "Maja", "Jakub", "Lena", "Kacper", "Hanna", "Piotr"],
           ["Nowak", "Kowalska", "Wiśniewski", "Wójcik", "Kamińska", "Lewandowski"]),
    "ru": (["Анна", "Иван", "Мария", "Дмитрий", "Ольга", "Сергей", "Елена"],
           ["Иванова", "Смирнов", "Кузнецова", "Попов", "Соколова", "Лебедев"]),
    "zh-hans": (["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳"], ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"]),
    "is": (["Guðrún", "Jón", "Sigríður", "Ólafur", "Kristín", "Einar", "Helga"],
           ["Jónsdóttir", "Sigurðsson", "Magnúsdóttir", "Ólafsson", "Einarsdóttir"]),
}  # fmt: skip
FUNCTIONS = ["Returns", "Billing", "Deliveries", "Warranty", "Accounts", "Premium Care", "Business Desk", "Repairs"]
REGIONS = ["North", "South", "East", "West", "Central", "Nordics", "Poland", "Baltics", "Iceland", "Online"]


def pick_language(rng: random.Random) -> str:
    return rng.choices([code for code, _ in LANGUAGES], weights=[w for _, w in LANGUAGES])[0]


def person_name(rng: random.Random, language: str) -> tuple[str, str]:
    first, last = NAMES[language]
    return rng.choice(first), rng.choice(last)


@dataclass
class Person:
    id: int
    user_id: int
    username: str
    role: str
    team_id: int
    parent_id: int
    language: str
    first_name: str
    last_name: str


@dataclass
class Organization:
    people: list[Person] = field(default_factory=list)
    by_id: dict[int, Person] = field(default_factory=dict)
    # Everyone above a person, nearest first (the demo's director last): the escalation chain.
    chain: dict[int, list[int]] = field(default_factory=dict)
    top: Employee | None = None

    def of_role(self, role: str) -> list[Person]:
        return [p for p in self.people if p.role == role]

    def add(self, person: Person) -> None:
        self.people.append(person)
        self.by_id[person.id] = person
        self.chain[person.id] = [person.parent_id, *self.chain.get(person.parent_id, [])]


def role_counts(employees: int) -> dict[str, int]:
    """Directors, managers, team leads and agents for `employees` people in all, by the spans above."""
    unit = 1 + SPAN["director"] * (1 + SPAN["manager"] * (1 + SPAN["team_lead"]))  # one director's people
    directors = max(1, round(employees / unit))
    managers = max(1, round(employees * SPAN["director"] / unit))
    leads = max(1, round(employees * SPAN["director"] * SPAN["manager"] / unit))
    agents = employees - directors - managers - leads
    if agents < leads:
        raise ValueError(f"{employees} employees are too few for an organization; ask for at least 20.")
    return {"director": directors, "manager": managers, "team_lead": leads, "agent": agents}


def team_names(count: int, taken: set[str]) -> list[str]:
    names = []
    for i in range(count * 2 + len(taken) + 1):
        base = f"{FUNCTIONS[i % len(FUNCTIONS)]} {REGIONS[(i // len(FUNCTIONS)) % len(REGIONS)]}"
        name = base if i < len(FUNCTIONS) * len(REGIONS) else f"{base} {i // (len(FUNCTIONS) * len(REGIONS)) + 1}"
        if name not in taken:
            names.append(name)
        if len(names) == count:
            return names
    raise AssertionError("unreachable: enough names are always generated")


def build_organization(
    *, employees: int, password: str, rng: random.Random, now: datetime, top: Employee, progress: Progress
) -> Organization:
    """`employees` people under `top` (the demo's director), with users that share one password."""
    counts = role_counts(employees)
    roles = {r.code: r for r in Role.objects.all()}
    org = Organization(top=top)
    org.chain[top.pk] = list(_ancestors(top))

    taken = set(Team.objects.values_list("name", flat=True))
    team_ids = IdPool(Team).take(counts["director"] + counts["manager"])
    names = team_names(counts["manager"], taken)
    # Team names are translated data: the English column is the one read (and the fallback).
    teams = Writer(Team, ["id", "name", "name_en"])
    division_teams = team_ids[: counts["director"]]
    unit_teams = team_ids[counts["director"] :]
    for i, team_id in enumerate(division_teams, start=1):
        name = f"Division {i} Leadership" if f"Division {i} Leadership" not in taken else f"Division {i}"
        teams.add((team_id, name, name))
    for team_id, name in zip(unit_teams, names, strict=True):
        teams.add((team_id, name, name))

    user_ids = IdPool(get_user_model()).take(employees)
    employee_ids = IdPool(Employee).take(employees)
    ids = iter(zip(employee_ids, user_ids, strict=True))
    width = max(5, len(str(employees)))

    def hire(role: str, number: int, team_id: int, parent_id: int) -> Person:
        employee_id, user_id = next(ids)
        language = pick_language(rng)
        first, last = person_name(rng, language)
        username = f"{USERNAME_PREFIX}{ROLE_NAMES[role]}-{number:0{width}d}"
        person = Person(employee_id, user_id, username, role, team_id, parent_id, language, first, last)
        org.add(person)
        return person

    directors = [hire("director", i + 1, division_teams[i], top.pk) for i in range(counts["director"])]
    managers = [
        hire("manager", i + 1, unit_teams[i], directors[i % len(directors)].id) for i in range(counts["manager"])
    ]
    leads = []
    for i in range(counts["team_lead"]):
        manager = managers[i % len(managers)]
        leads.append(hire("team_lead", i + 1, manager.team_id, manager.id))
    for i in range(counts["agent"]):
        lead = leads[i % len(leads)]
        hire("agent", i + 1, lead.team_id, lead.id)

    # One hash for everyone: a real, usable password, hashed once rather than 5,000 times.
    password_hash = make_password(password)
    write_users(org.people, password_hash=password_hash, rng=rng, now=now, progress=progress)
    teams.flush()
    write_employees(org.people, roles=roles, progress=progress)
    return org


def _ancestors(employee: Employee) -> list[int]:
    chain, current = [], employee.parent
    while current is not None:
        chain.append(current.pk)
        current = current.parent
    return chain


def write_users(people: list[Person], *, password_hash: str, rng: random.Random, now: datetime, progress) -> None:
    users = Writer(
        get_user_model(),
        ["id", "password", "is_superuser", "username", "first_name", "last_name", "email", "is_staff", "is_active",
         "date_joined"],
    )  # fmt: skip
    for p in people:
        joined = now - timedelta(days=rng.randint(400, 3650), seconds=rng.randint(0, 86_399))
        email = f"{p.username}@scale.example.com"
        users.add((p.user_id, password_hash, False, p.username, p.first_name, p.last_name, email, False, True, joined))
        progress.advance(0.5)
    users.flush()


def write_employees(people: list[Person], *, roles: dict[str, Role], progress) -> None:
    """The employee rows, managers before the people who report to them; then every chain of command
    (`Employee.path`) in one maintenance statement, as rows written in bulk carry none."""
    rows = Writer(Employee, ["id", "parent", "user", "role", "team", "language", "path"])
    for p in people:
        rows.add((p.id, p.parent_id, p.user_id, roles[p.role].pk, p.team_id, p.language, "/"))
        progress.advance(0.5)
    rows.flush()
    employee_paths_rebuild()


@dataclass
class Customers:
    ids: list[int]


def build_customers(*, count: int, rng: random.Random, now: datetime, progress: Progress) -> Customers:
    ids = IdPool(Customer).take(count)
    rows = Writer(Customer, ["id", "name", "email", "language", "created_at"])
    for customer_id in ids:
        language = pick_language(rng)
        first, last = person_name(rng, language)
        created = now - timedelta(days=rng.uniform(370, 1500))
        rows.add((customer_id, f"{first} {last}", f"customer-{customer_id}@scale.example.com", language, created))
        progress.advance()
    rows.flush()
    return Customers(ids=ids)
