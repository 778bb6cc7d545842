// What a user does in the Node-RED editor, through its own UI (selectors from @node-red/editor-client).
import type { Locator, Page } from 'playwright-core';

/** Long enough for a loaded 2-core machine; short enough that a failing file ends within the runner's limit. */
export const WAIT_MS = 30000;

/** Polls `check` until it returns a value other than undefined; fails with `what` and the last value seen. */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function openEditor(page: Page, url: string): Promise<void> {
  await page.goto(url);
  // Attached, not visible: the first palette node may sit in a category the editor opens collapsed.
  await page.locator('#red-ui-palette .red-ui-palette-node').first().waitFor({ state: 'attached' });
  await page.locator('#red-ui-workspace-chart svg').first().waitFor();
  // The editor fades its loader out once the flows are loaded.
  await page.locator('#red-ui-header-button-deploy').waitFor();
  await waitUntil('the editor to finish loading', async () =>
    (await page.locator('#red-ui-loading-progress').isVisible()) ? undefined : true,
  );
}

/** Palette DOM ids use the category with spaces turned into underscores. */
export function paletteCategoryId(category: string): string {
  return category.replace(/ /g, '_');
}

/** Collapses every palette category, then opens `category`, and waits for its slide-down to end. */
export async function showOnlyPaletteCategory(page: Page, category: string): Promise<Locator> {
  const id = paletteCategoryId(category);
  await page.locator('#red-ui-palette .red-ui-component-footer button:has(i.fa-angle-double-up)').click();
  const body = page.locator(`#red-ui-palette-${id}`);
  await waitUntil(`palette category "${category}" to close`, async () => ((await body.isVisible()) ? undefined : true));
  await page.locator(`#red-ui-palette-header-${id}`).click();
  await body.locator('.red-ui-palette-node').last().waitFor({ state: 'visible' });
  // Stable size across two looks 200 ms apart: the jQuery slide-down has ended.
  let last = '';
  await waitUntil(`palette category "${category}" to finish opening`, async () => {
    const box = await body.boundingBox();
    const now = JSON.stringify(box);
    const stable = box !== null && box.height > 0 && now === last;
    last = now;
    if (!stable) await new Promise((r) => setTimeout(r, 200));
    return stable ? true : undefined;
  });
  return body;
}

export function workspaceNodes(page: Page): Locator {
  return page.locator('#red-ui-workspace-chart g.red-ui-flow-node-group');
}

export function workspaceNode(page: Page, id: string): Locator {
  return page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"]`);
}

async function workspaceNodeIds(page: Page): Promise<string[]> {
  const ids: string[] = [];
  for (const g of await workspaceNodes(page).all()) {
    const id = await g.getAttribute('id');
    if (id) ids.push(id);
  }
  return ids;
}

/** Drags a node from the palette onto the workspace at (dx, dy) from the chart's corner; returns its id. */
export async function dragFromPalette(page: Page, type: string, dx: number, dy: number): Promise<string> {
  const before = new Set(await workspaceNodeIds(page));
  const source = page.locator(`#red-ui-palette .red-ui-palette-node[data-palette-type="${type}"]`);
  await source.scrollIntoViewIfNeeded();
  const from = await source.boundingBox();
  const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
  if (!from || !chart) throw new Error(`palette node ${type} or the workspace is not on screen`);
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  // jQuery UI's draggable needs real moves: first out of the palette, then to the drop point.
  await page.mouse.move(chart.x + dx / 2, chart.y + dy / 2, { steps: 8 });
  await page.mouse.move(chart.x + dx, chart.y + dy, { steps: 8 });
  await page.mouse.up();
  return waitUntil(`a ${type} node to appear on the workspace`, async () => {
    const added = (await workspaceNodeIds(page)).filter((id) => !before.has(id));
    return added.length === 1 ? added[0] : undefined;
  });
}

/** Double-clicks a workspace node and waits for its edit tray. */
export async function openNodeDialog(page: Page, id: string): Promise<void> {
  await workspaceNode(page, id).locator('rect.red-ui-flow-node').dblclick();
  await page.locator('#node-dialog-ok').waitFor({ state: 'visible' });
  await page.locator('.red-ui-tray').first().waitFor({ state: 'visible' });
  await waitForTrayToSettle(page);
}

/** The tray slides in; wait until the top tray stops moving. */
export async function waitForTrayToSettle(page: Page): Promise<void> {
  const tray = page.locator('.red-ui-tray').last();
  let last = '';
  await waitUntil('the edit tray to settle', async () => {
    const now = JSON.stringify(await tray.boundingBox());
    const stable = now === last && now !== 'null';
    last = now;
    if (!stable) await new Promise((r) => setTimeout(r, 200));
    return stable ? true : undefined;
  });
}

export async function hasClass(locator: Locator, cls: string): Promise<boolean> {
  const c = (await locator.getAttribute('class')) ?? '';
  return c.split(/\s+/).includes(cls);
}

/** Waits until the editor has (or has not) marked an input invalid with `input-error`. */
export async function waitForInputError(page: Page, selector: string, marked: boolean): Promise<void> {
  const input = page.locator(selector);
  await waitUntil(`${selector} to be ${marked ? '' : 'no longer '}marked invalid`, async () =>
    (await hasClass(input, 'input-error')) === marked ? true : undefined,
  );
}

/** Types into a dialog input as a user does, so the editor's keyup/change validation runs. */
export async function typeInto(page: Page, selector: string, text: string): Promise<void> {
  const input = page.locator(selector);
  await input.click();
  await input.press('Control+A');
  await input.press('Delete');
  await input.pressSequentially(text);
  await input.dispatchEvent('change');
}

/**
 * Texts shown in the open dialog that are untranslated message keys such as "secure-mqtt-out.label.topic"
 * (what i18next shows when a key is missing from the locale file).
 */
export async function rawMessageKeys(page: Page, scope: string, prefixes: string[]): Promise<string[]> {
  const root = page.locator(scope);
  const shown: string[] = [];
  for (const el of await root.locator('label, span, a, div.form-tips, button').all()) {
    if (await el.isVisible()) shown.push(((await el.textContent()) ?? '').trim());
  }
  // Options of a select are not "visible" to Playwright: take every option of the visible selects.
  for (const sel of await root.locator('select').all()) {
    if (await sel.isVisible()) shown.push(...(await sel.locator('option').allTextContents()).map((t) => t.trim()));
  }
  for (const el of await root.locator('input[placeholder], textarea[placeholder]').all()) {
    shown.push((await el.getAttribute('placeholder')) ?? '');
  }
  const key = new RegExp(`(^|[^\\w-])(${prefixes.map((p) => p.replace(/[-]/g, '\\-')).join('|')})[\\w-]*\\.[A-Za-z]\\w*`);
  return [...new Set(shown.filter((t) => key.test(t)))];
}

/** Clicks Deploy and waits for the editor to report a clean, deployed workspace. */
export async function deploy(page: Page): Promise<void> {
  const button = page.locator('#red-ui-header-button-deploy');
  await waitUntil('the Deploy button to be enabled', async () => ((await hasClass(button, 'disabled')) ? undefined : true));
  await button.click();
  await page.locator('.red-ui-notification', { hasText: 'Successfully deployed' }).first().waitFor();
  await waitUntil('the Deploy button to be disabled after the deploy', async () =>
    (await hasClass(button, 'disabled')) ? true : undefined,
  );
}

export interface ShownStatus {
  text: string;
  /** The status shape's classes, e.g. "red-ui-flow-node-status red-ui-flow-node-status-dot-green". */
  shape: string;
}

/** Waits for the status drawn under a workspace node to satisfy `ok`; returns it. */
export async function waitForStatus(page: Page, id: string, ok: (s: ShownStatus) => boolean, timeoutMs = WAIT_MS): Promise<ShownStatus> {
  const node = workspaceNode(page, id);
  let seen: ShownStatus = { text: '', shape: '' };
  try {
    return await waitUntil(
      `the status of node ${id}`,
      async () => {
        // Text and shape in one read: two reads could straddle a status change (an old text with a new dot).
        seen = await node.evaluate((el: unknown) => {
          const find = (el as { querySelector(s: string): { textContent: string | null; getAttribute(a: string): string | null } | null }).querySelector.bind(el);
          return {
            text: (find('.red-ui-flow-node-status-label')?.textContent ?? '').trim(),
            shape: find('rect.red-ui-flow-node-status')?.getAttribute('class') ?? '',
          };
        });
        return ok(seen) ? seen : undefined;
      },
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last status shown: ${JSON.stringify(seen)}`);
  }
}

/** Evaluates an expression in the page that yields a JSON string, to read editor state for assertions. */
export async function readState<T>(page: Page, expression: string): Promise<T> {
  const json = await page.evaluate<string>(`JSON.stringify(${expression})`);
  return JSON.parse(json) as T;
}
