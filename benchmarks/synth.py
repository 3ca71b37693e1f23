"""Deterministic synthetic workspaces for benchmarking `cspec check`.

`python benchmarks/synth.py 100 1000 5000` writes `benchmarks/out/<N>/` (a `cspec.toml` and
`spec/`): N entities, 50 per file, 4 files per module (one folder per module), each module
using `identity` and the module before it. Every entity has 8 fields of mixed types besides
its id, a `@tenant` org ref and one `ref` to another entity, a policy, a permission pair with
grants, 4 operations (create/get/list/update) and 2 events. The output is the same on every
run and must check clean (tests/test_benchmark_synth.py asserts it for a small N).
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import dataclass
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
ENTITIES_PER_FILE = 50
FILES_PER_MODULE = 4
NOUNS = (
    "Account", "Invoice", "Shipment", "Ticket", "Project", "Contract", "Asset", "Booking",
    "Course", "Device", "Expense", "Lead", "Order", "Payment", "Product", "Quote", "Report",
    "Room", "Survey", "Vendor",
)


@dataclass(frozen=True)
class Layout:
    per_file: int = ENTITIES_PER_FILE
    files_per_module: int = FILES_PER_MODULE

    def place(self, index: int) -> tuple[int, int]:
        """(module number, part number in the module) of entity `index`."""
        return divmod(index // self.per_file, self.files_per_module)


@dataclass(frozen=True)
class Entity:
    index: int
    layout: Layout = Layout()

    @property
    def module(self) -> str:
        return module_name(self.layout.place(self.index)[0])

    @property
    def name(self) -> str:
        return f"{NOUNS[self.index % len(NOUNS)]}{self.index}"

    @property
    def lower(self) -> str:
        return self.name[0].lower() + self.name[1:]

    @property
    def snake(self) -> str:
        return f"{NOUNS[self.index % len(NOUNS)].lower()}{self.index}"


@dataclass(frozen=True)
class Summary:
    files: int
    modules: int
    lines: int
    entities: int


def module_name(number: int) -> str:
    return f"m{number:03d}"


def _target(entity: Entity) -> str:
    """The entity's one `ref`: the entity before it, qualified across modules."""
    if entity.index == 0:
        return "identity.User"
    other = Entity(entity.index - 1, entity.layout)
    return other.name if other.module == entity.module else f"{other.module}.{other.name}"


def entity_text(entity: Entity) -> str:
    e, s = entity, entity.snake
    target = _target(entity)
    unique = "\n  @@unique(org, title)" if entity.index % 3 == 0 else ""
    return f"""\
/// A {NOUNS[e.index % len(NOUNS)].lower()} (synthetic entity #{e.index}).
entity {e.name} {{
  id: uuid @id
  org: ref identity.Org @tenant
  /// What people call it.
  title: string(1..200) @label("Title")
  code: string @pattern("^[A-Z]{{3}}-[0-9]+$")
  quantity: int(0..)
  amount: money
  active: bool = true
  status: RecordStatus = draft
  contactEmail: email? @pii
  createdAt: datetime @default(now) @immutable
  parent: ref {target}
  @@index(org, status){unique}
}}

permission view_{s} "See {e.name} records"
permission manage_{s} "Create and edit {e.name} records"

grant owner, admin: manage_{s}, view_{s}
grant member: view_{s}

policy {e.name} {{
  read: view_{s}
  create: manage_{s}
  update: manage_{s} or self.active == false
  delete: admin or owner
}}

/// Create a {e.name}.
command create{e.name} v1 {{
  input {{
    title: string(1..200)
    code: string @pattern("^[A-Z]{{3}}-[0-9]+$")
    quantity: int(0..)
    amount: money
    contactEmail: email? @pii
    parent: ref {target}
  }}
  output {e.name}
  policy manage_{s}
  emits {s}.created
  errors {{
    DuplicateTitle 409 "A record with this title exists"
  }}
}}

query get{e.name} v1 {{
  input {{
    id: uuid
  }}
  output {e.name}
  policy view_{s}
}}

query list{e.name} v1 {{
  input {{
    status: RecordStatus?
    q: string?
  }}
  output page<{e.name}>
  policy view_{s}
}}

command update{e.name} v1 {{
  input {{
    id: uuid
    title: string(1..200)?
    amount: money?
    status: RecordStatus?
  }}
  output {e.name}
  policy manage_{s} or admin
  emits {s}.updated
}}

event {s}.created v1 {{
  payload {{
    {e.lower}: ref {e.name}
    amount: money
    contactEmail: email? @pii
    by: ref identity.User
  }}
  severity info
  retention 365d
  audit
}}

event {s}.updated v1 {{
  payload {{
    {e.lower}: ref {e.name}
    by: ref identity.User
  }}
  retention 90d
}}
"""


def file_text(module: int, part: int, entities: list[Entity]) -> str:
    name = module_name(module)
    head = [f"/// Synthetic module {name}, part {part + 1}.", f"module {name} version 1.0.0", "",
            "use identity", "use audit"]
    if module > 0:
        head.append(f"use {module_name(module - 1)}")
    head.append("")
    if part == 0:
        head += ["/// Where a record is in its life.", "enum RecordStatus {", "  draft",
                 "  active", "  archived", "}", ""]
    return "\n".join(head) + "\n" + "\n".join(entity_text(e) for e in entities)


def generate(n: int, root: Path, layout: Layout = Layout()) -> Summary:
    """Write a workspace of `n` entities at `root` (replacing what was there)."""
    if root.exists():
        shutil.rmtree(root)
    spec = root / "spec"
    spec.mkdir(parents=True)
    (root / "cspec.toml").write_text(
        f'[workspace]\nname = "synth-{n}"\nspecs = ["spec"]\n', encoding="utf-8")
    files = lines = 0
    modules: set[int] = set()
    for first in range(0, n, layout.per_file):
        entities = [Entity(i, layout) for i in range(first, min(first + layout.per_file, n))]
        number, part = layout.place(first)
        modules.add(number)
        folder = spec / module_name(number)
        folder.mkdir(exist_ok=True)
        text = file_text(number, part, entities)
        (folder / f"part{part + 1}.cspec").write_text(text, encoding="utf-8")
        files += 1
        lines += text.count("\n")
    return Summary(files=files, modules=len(modules), lines=lines, entities=n)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("sizes", nargs="*", type=int, default=[100, 1000, 5000],
                        help="entity counts (default: 100 1000 5000)")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    for n in args.sizes:
        summary = generate(n, args.out / str(n))
        print(f"{n:>6} entities: {summary.files} files, {summary.modules} modules, "
              f"{summary.lines} lines -> {args.out / str(n)}")


if __name__ == "__main__":
    main()
