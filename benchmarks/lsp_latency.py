"""Benchmark `cspec lsp` on the synthetic 1000-entity workspace.

The workspace of `benchmarks/synth.py` is generated with 20 entities per file (so each file
has about 2,000 lines; 50 files, 5 modules) into `benchmarks/out/lsp-<N>/`. A client drives
the server over stdio, the way an editor does, and reports p50 / p95 / max of:

- didChange -> publishDiagnostics on a 2,000-line file (each edit adds or removes a typo,
  so every edit changes the diagnostics and is published), debounce included;
  the reference index is built when a request first needs it, so the first request after
  an edit also pays for it (its max shows that);
- completion, hover, definition, references and rename on that file;
- the start-up time to the first diagnostics of the whole workspace, and the server's
  peak RSS (VmHWM).

Then, in this process, where the time of one edit goes: the phases of the analysis (only the
edited file is parsed again) and the building of the reference index.

    python -m benchmarks.lsp_latency            # N = 1000, 30 rounds
    python -m benchmarks.lsp_latency 100 -k 10  # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.lsp.client import BaseLanguageClient

from benchmarks.synth import OUT, Layout, generate

TARGETS_MS = {"didChange -> diagnostics": 150, "completion": 50, "hover": 50, "definition": 50,
              "references": 300, "rename": 300}
TARGET_START_S = 3.0
TARGET_RSS_MB = 400
LAYOUT = Layout(per_file=20, files_per_module=10)
SERVER = [sys.executable, "-m", "contractspec.cli.main", "lsp"]


class Client(BaseLanguageClient):
    def __init__(self) -> None:
        super().__init__("lsp-latency", "1")
        self.published: dict[str, asyncio.Event] = {}
        self.first_publish: float | None = None
        self.files_published: set[str] = set()

        @self.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_publish(params: lsp.PublishDiagnosticsParams) -> None:
            if self.first_publish is None:
                self.first_publish = time.perf_counter()
            self.files_published.add(params.uri)
            self.published.setdefault(params.uri, asyncio.Event()).set()

        @self.feature(lsp.WINDOW_LOG_MESSAGE)
        def on_log(params: lsp.LogMessageParams) -> None:
            if params.type == lsp.MessageType.Error:
                print(params.message, file=sys.stderr)


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95, ordered[-1]


async def timed(samples: list[float], work: Callable[[], Awaitable[Any]]) -> Any:
    started = time.perf_counter()
    result = await work()
    samples.append((time.perf_counter() - started) * 1000)
    return result


def position(text: str, needle: str, shift: int = 0) -> lsp.Position:
    offset = text.index(needle) + shift
    start = text.rfind("\n", 0, offset) + 1
    return lsp.Position(line=text.count("\n", 0, offset), character=offset - start)


async def run(n: int, rounds: int) -> dict[str, Any]:
    root = OUT / f"lsp-{n}"
    summary = generate(n, root, LAYOUT)
    files = sorted((root / "spec").rglob("*.cspec"))
    target = files[len(files) // 2]  # a file in a middle module: others use its module
    text = target.read_text(encoding="utf-8")
    uri = target.resolve().as_uri()
    client = Client()
    started = time.perf_counter()
    await client.start_io(*SERVER)
    await client.initialize_async(lsp.InitializeParams(
        capabilities=lsp.ClientCapabilities(), root_uri=root.resolve().as_uri(),
        process_id=None))
    client.initialized(lsp.InitializedParams())
    while len(client.files_published) < len(files):
        await asyncio.sleep(0.01)
    all_files = time.perf_counter() - started
    first = (client.first_publish or started) - started
    ident = lsp.TextDocumentIdentifier(uri=uri)
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=uri, language_id="cspec", version=1, text=text)))
    samples: dict[str, list[float]] = {k: [] for k in TARGETS_MS}

    found = re.search(r"^entity (\w+)", text, re.MULTILINE)
    assert found is not None
    entity = found.group(1)
    typo = text.replace(": money", ": mony", 1)
    for k in range(rounds):
        event = client.published.setdefault(uri, asyncio.Event())
        event.clear()
        sent = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=k + 2),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(
                text=typo if k % 2 == 0 else text)]))
        await event.wait()
        samples["didChange -> diagnostics"].append((time.perf_counter() - sent) * 1000)
    current = text if rounds % 2 == 0 else typo
    ref_at = position(current, "ref ", 4)
    entity_at = position(current, f"\nentity {entity}", 9)
    for _ in range(rounds):
        await timed(samples["completion"], lambda: client.text_document_completion_async(
            lsp.CompletionParams(text_document=ident, position=ref_at)))
        await timed(samples["hover"], lambda: client.text_document_hover_async(
            lsp.HoverParams(text_document=ident, position=entity_at)))
        await timed(samples["definition"], lambda: client.text_document_definition_async(
            lsp.DefinitionParams(text_document=ident, position=ref_at)))
        await timed(samples["references"], lambda: client.text_document_references_async(
            lsp.ReferenceParams(text_document=ident, position=entity_at,
                                context=lsp.ReferenceContext(include_declaration=True))))
        await timed(samples["rename"], lambda: client.text_document_rename_async(
            lsp.RenameParams(text_document=ident, position=entity_at, new_name=entity + "X")))
    rss = _peak_rss_mb(client)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return {"summary": summary, "target": target, "first": first, "all": all_files,
            "rss": rss, "samples": samples, "lines": text.count("\n")}


def _peak_rss_mb(client: BaseLanguageClient) -> float:
    server = getattr(client, "_server", None)
    if server is None:
        return float("nan")
    try:
        status = Path(f"/proc/{server.pid}/status").read_text(encoding="utf-8")
    except OSError:
        return float("nan")
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def breakdown(target: Path, root: Path) -> dict[str, float]:
    """Where one edit's time goes, measured in this process as the server does it (the
    parse cache and the index of the previous edit warm, `gc.freeze` after each), in
    milliseconds."""
    from contractspec.ide.host import Host

    host = Host(root)
    name = host.display(target)
    text = target.read_text(encoding="utf-8")
    phases: dict[str, float] = {}
    for edit in (text.replace(": money", ": mony", 1), text):
        host.set_text(name, edit)
        started = time.perf_counter()
        world = host.world()
        analysed = time.perf_counter()
        _ = world.index
        indexed = time.perf_counter()
        gc.freeze()
        phases = {f"analysis: {k}": v * 1000 for k, v in world.analysis.stats.seconds.items()}
        phases["analysis (total)"] = (analysed - started) * 1000
        phases["reference index (incremental)"] = (indexed - analysed) * 1000
    return phases


def report(result: dict[str, Any], phases: dict[str, float]) -> str:
    s = result["summary"]
    lines = [f"Workspace: {s.entities} entities, {s.files} files, {s.modules} modules, "
             f"{s.lines} lines; edited file: {result['lines']} lines", "",
             "| measure | p50 | p95 | max | target (p95) |", "|---|---|---|---|---|"]
    for name, samples in result["samples"].items():
        p50, p95, top = percentiles(samples)
        mark = "ok" if p95 <= TARGETS_MS[name] else "over"
        lines.append(f"| {name} | {p50:.0f} ms | {p95:.0f} ms | {top:.0f} ms | "
                     f"{TARGETS_MS[name]} ms ({mark}) |")
    lines += ["", f"Start-up to first diagnostics: {result['first']:.2f} s "
              f"(every file: {result['all']:.2f} s; target {TARGET_START_S:.0f} s)",
              f"Server peak RSS: {result['rss']:.0f} MB (target {TARGET_RSS_MB} MB)", "",
              "One edit of that file, in process:", ""]
    lines += [f"- {name}: {ms:.0f} ms" for name, ms in phases.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("n", nargs="?", type=int, default=1000, help="entities (default 1000)")
    parser.add_argument("-k", "--rounds", type=int, default=30, help="samples per measure")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.n, args.rounds))
    phases = breakdown(result["target"], OUT / f"lsp-{args.n}")
    print(report(result, phases))


if __name__ == "__main__":
    main()
