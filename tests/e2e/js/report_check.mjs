// Loads an evaluation report in Debian's Chromium (headless, through
// playwright-core) at a given window width and prints what the DOM says
// about its layout as one JSON object (tests/e2e/report_browser_test.py).
//   node report_check.mjs REPORT_HTML WIDTH [CHROMIUM]
import { chromium } from "playwright-core";

const [path, width, executable] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: executable || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage({ viewport: { width: Number(width), height: 900 } });
  await page.goto("file://" + path);
  const out = await page.evaluate(() => {
    const rect = (e) => e.getBoundingClientRect();
    const results = document.querySelector("#results");
    const table = results && results.querySelector("table");
    const lastHeader = table && table.querySelector("tr").lastElementChild;
    const tables = [...document.querySelectorAll("table")].map((t) => {
      const wrap = t.parentElement;
      return {
        wrapped: wrap.classList.contains("table-wrap"),
        overflow_x: getComputedStyle(wrap).overflowX,
        wrap_right: rect(wrap).right,
        table_width: t.offsetWidth,
        wrap_scroll_width: wrap.scrollWidth,
        wrap_client_width: wrap.clientWidth,
      };
    });
    let lastHeaderReachable = null;
    if (results && lastHeader) {
      results.scrollLeft = results.scrollWidth;  // scroll the wrapper to its end
      const r = rect(lastHeader);
      lastHeaderReachable = r.right <= rect(results).right + 1 && r.left >= rect(results).left - 1;
      results.scrollLeft = 0;
    }
    const prov = document.querySelector("#provenance");
    return {
      inner_width: window.innerWidth,
      page_scroll_width: document.documentElement.scrollWidth,
      tables,
      last_header_text: lastHeader && lastHeader.textContent,
      last_header_reachable: lastHeaderReachable,
      provenance_rows: prov
        ? Object.fromEntries([...prov.querySelectorAll("tr")].map((tr) => [
            tr.querySelector("th").textContent, tr.querySelector("td").textContent]))
        : null,
      svg_widths: [...document.querySelectorAll("svg")].map((s) => rect(s).width),
      section_titles: [...document.querySelectorAll("section > h2")].map((h) => h.textContent),
    };
  });
  process.stdout.write(JSON.stringify(out) + "\n");
} finally {
  await browser.close();
}
