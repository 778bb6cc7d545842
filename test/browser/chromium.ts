// Debian's Chromium driven by playwright-core: no browser download, no traffic beyond 127.0.0.1.
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does it)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface PageProblems {
  /** Uncaught exceptions in the page. */
  errors: string[];
  /** Requests that left 127.0.0.1 (aborted) and local requests that failed. */
  requests: string[];
}

/** A page that may only talk to the local Node-RED, and that records its errors. */
export async function openPage(browser: Browser): Promise<{ page: Page; problems: PageProblems }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(30000);
  const problems: PageProblems = { errors: [], requests: [] };
  page.on('pageerror', (e) => problems.errors.push(e.message));
  await page.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:') {
      await route.continue();
    } else {
      problems.requests.push(`blocked ${url.href}`);
      await route.abort();
    }
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.requests.push(`${res.status()} ${res.url()}`);
  });
  return { page, problems };
}
