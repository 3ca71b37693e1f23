// Drives code-server (the extension installed, a workspace open) with headless chromium:
// open a spec, see the squiggle and the status bar count, hover, fix the mistake, complete a
// type, save, preview the regeneration, show who can do what. Run by e2e.sh.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    workspace: { type: "string" },
    screenshots: { type: "string" },
  },
});
const require = createRequire(path.join(process.env.CSPEC_E2E_DIR, "node_modules", "_"));
const puppeteer = require("puppeteer-core");

const WAIT = 90_000; // a bound for slow machines, not a timing assertion
let passed = 0;
let failed = 0;
let current; // the page, for a screenshot of a failure

async function step(name, body) {
  try {
    await body();
    passed += 1;
    console.log(`ok ${passed + failed} - ${name}`);
  } catch (error) {
    failed += 1;
    const where = path.join(process.env.CSPEC_E2E_FAILURES ?? "/tmp", "cspec-e2e-failure.png");
    await current?.screenshot({ path: where }).catch(() => undefined);
    console.log(`  (screenshot: ${where})`);
    console.log(`not ok ${passed + failed} - ${name}\n  ${String(error?.stack ?? error).split("\n").join("\n  ")}`);
    throw error;
  }
}

async function chord(page, ...keys) {
  for (const key of keys) await page.keyboard.down(key);
  for (const key of [...keys].reverse()) await page.keyboard.up(key);
}

async function command(page, title) {
  await chord(page, "Control", "Shift", "KeyP");
  await page.waitForSelector(".quick-input-widget:not([style*='display: none']) input", { visible: true, timeout: WAIT });
  await page.keyboard.type(title);
  await page.waitForFunction(
    (wanted) => [...document.querySelectorAll(".quick-input-list .monaco-list-row")].some((r) => r.textContent.includes(wanted)),
    { timeout: WAIT },
    title.replace(/^ContractSpec: /, ""),
  );
  await page.keyboard.press("Enter");
}

async function open(page, name) {
  await chord(page, "Control", "KeyP");
  await page.waitForSelector(".quick-input-widget input", { visible: true, timeout: WAIT });
  await page.keyboard.type(name);
  await waitForText(page, ".quick-input-list .monaco-list-row", (t) => t.includes(name));
  await page.keyboard.press("Enter");
}

/** Text of the first visible element matching `selector` whose text passes `test`. */
async function waitForText(page, selector, test) {
  const handle = await page.waitForFunction(
    (sel, source) => {
      const accept = new Function("t", `return (${source})(t)`);
      return [...document.querySelectorAll(sel)].find((e) => e.offsetParent !== null && accept((e.textContent ?? "").replace(/\u00a0/g, " ")));
    },
    { timeout: WAIT, polling: 250 },
    selector,
    test.toString(),
  );
  return page.evaluate((e) => e.textContent, handle);
}

async function shot(page, name) {
  mkdirSync(args.screenshots, { recursive: true });
  await page.screenshot({ path: path.join(args.screenshots, `vscode-${name}.png`) });
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,800"],
  defaultViewport: { width: 1280, height: 800 },
});
let exitCode = 0;
try {
  const page = await browser.newPage();
  current = page;

  await step("the workbench loads", async () => {
    for (let attempt = 0; ; attempt++) {
      try {
        await page.goto(args.url, { waitUntil: "domcontentloaded", timeout: WAIT });
        break;
      } catch (error) {
        if (attempt > 60) throw error; // code-server still starting
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    await page.waitForSelector(".monaco-workbench .part.statusbar", { timeout: WAIT });
  });

  await step("a spec opens with its highlighting", async () => {
    await page.click(".monaco-workbench .part.editor");
    await open(page, "shop.cspec");
    await waitForText(page, ".monaco-editor .view-lines", (t) => t.includes("module shop"));
    // The grammar is in use: the declaration keyword gets a token colour of its own.
    await page.waitForFunction(
      () => [...document.querySelectorAll(".monaco-editor .view-line span span")].some(
        (s) => s.textContent.trim() === "entity" && s.className !== "mtk1"),
      { timeout: WAIT },
    );
  });

  await step("the mistake is underlined and counted in the status bar", async () => {
    await page.waitForSelector(".monaco-editor .squiggly-error", { timeout: WAIT });
    await waitForText(page, ".statusbar-item", (t) => /^\s*1\s+0\s+cspec\s*$/.test(t));
  });

  await step("hover shows the diagnostic", async () => {
    // The code lens above the module line arrives late and shifts the lines: measure again
    // until the hover is the diagnostic's.
    await waitForText(page, ".monaco-editor .codelens-decoration", (t) => t.includes("Who can do what"));
    for (let attempt = 1; ; attempt++) {
      const box = await (await page.$(".monaco-editor .squiggly-error")).boundingBox();
      await page.mouse.move(5, 5);
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      try {
        await page.waitForFunction(
          () => [...document.querySelectorAll(".monaco-hover-content")].some((e) => e.offsetParent !== null && e.textContent.includes("CS2")),
          { timeout: 5_000 },
        );
        break;
      } catch (error) {
        if (attempt === 10) throw error;
      }
    }
    await page
      .waitForFunction(() => [...document.querySelectorAll(".monaco-hover")].some((e) => e.textContent.includes("Quick Fix")), { timeout: 10_000 })
      .catch(() => undefined); // the screenshot is nicer with it; the fix itself is tested below
    await new Promise((r) => setTimeout(r, 800)); // the hover fades in
    await shot(page, "diagnostics");
  });

  await step("the quick fix corrects the mistake", async () => {
    const squiggle = await page.$(".monaco-editor .squiggly-error");
    const box = await squiggle.boundingBox();
    await page.mouse.move(10, 10);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await chord(page, "Control", "Period");
    const fix = await page.waitForFunction(
      () => [...document.querySelectorAll(".action-widget .monaco-list-row")].find((r) => r.textContent.includes("Replace with `money`")),
      { timeout: WAIT },
    );
    await fix.click();
    await waitForText(page, ".monaco-editor .view-lines", (t) => t.includes("total: money"));
    await page.waitForFunction(() => !document.querySelector(".monaco-editor .squiggly-error"), { timeout: WAIT });
    await waitForText(page, ".statusbar-item", (t) => /^\s*0\s+0\s+cspec\s*$/.test(t));
  });

  await step("completion offers the types after a field name", async () => {
    await page.keyboard.press("End");
    await page.keyboard.press("Enter");
    await page.keyboard.type("note: ");
    await chord(page, "Control", "Space");
    await waitForText(page, ".suggest-widget .monaco-list-row", (t) => t.includes("datetime"));
    await shot(page, "completion");
    await page.keyboard.type("text");
    await page.keyboard.press("Escape");
    await chord(page, "Control", "KeyS");
    await page.waitForFunction(() => !document.querySelector(".tab.dirty"), { timeout: WAIT });
  });

  await step("the regeneration preview opens diffs of the generated files", async () => {
    await chord(page, "Control", "KeyB"); // hide the side bar: room for both sides
    await command(page, "ContractSpec: Preview Regeneration");
    await page.waitForSelector(".monaco-diff-editor", { visible: true, timeout: WAIT });
    await waitForText(page, ".tab", (t) => t.includes("(regenerated)"));
    await waitForText(page, ".notification-toast", (t) => t.includes("ContractSpec regeneration:") && t.includes("changed"));
    await waitForText(page, ".monaco-diff-editor .editor.modified .view-lines", (t) => t.includes("note"));
    await new Promise((r) => setTimeout(r, 1000)); // the notification fades in
    await shot(page, "preview");
  });

  await step("who can do what opens the access matrix", async () => {
    await page.keyboard.press("Escape");
    // No spec editor is active (a diff is): the command asks for the module's file.
    await command(page, "ContractSpec: Show Who Can Do What");
    await waitForText(page, ".quick-input-list .monaco-list-row", (t) => t.includes("billing.cspec"));
    await page.keyboard.type("shop");
    await waitForText(page, ".quick-input-list .monaco-list-row", (t) => t.includes("shop.cspec"));
    await page.keyboard.press("Enter");
    await waitForText(page, ".tab", (t) => t.includes("Who can do what: shop"));
    await new Promise((r) => setTimeout(r, 1500)); // let the webview paint for the screenshot
    await shot(page, "access-matrix");
  });

  await step("Generate writes and saves the files", async () => {
    await page.keyboard.press("Escape");
    await command(page, "ContractSpec: Generate");
    await waitForText(page, ".notification-toast", (t) => t.includes("ContractSpec: regenerated"));
    const models = readFileSync(path.join(args.workspace, "generated", "shop", "db", "models.py"), "utf8");
    if (!models.includes("note")) throw new Error("generated/shop/db/models.py lacks the new field");
    await page.waitForFunction(() => !document.querySelector(".tab.dirty"), { timeout: WAIT });
  });

  await step("Check Workspace reports a clean workspace", async () => {
    await page.keyboard.press("Escape");
    await command(page, "ContractSpec: Check Workspace");
    await waitForText(page, ".notification-toast", (t) => t.includes("ContractSpec: no problems in 2 files"));
  });

  await step("a server that cannot start is explained, with the setting to change", async () => {
    await page.keyboard.press("Escape");
    // Workspace settings, as a project would set them (the folder is watched).
    mkdirSync(path.join(args.workspace, ".vscode"), { recursive: true });
    writeFileSync(
      path.join(args.workspace, ".vscode", "settings.json"),
      JSON.stringify({ "contractspec.server.python": "", "contractspec.server.path": "cspec-not-installed" }),
    );
    await waitForText(page, ".notification-toast", (t) => t.includes("`cspec-not-installed` was not found on PATH") && t.includes("Open Settings"));
    await waitForText(page, ".statusbar-item", (t) => t.includes("cspec: not running"));
  });
} catch {
  exitCode = 1;
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(exitCode || (failed ? 1 : 0));
