// A windowed list: rows have one fixed height and only the visible ones (plus a margin)
// are in the DOM, so 10,000 or 50,000 events scroll as smoothly as 50.
import { h } from "./dom.js";

export class VirtualList {
  constructor({ rowHeight = 28, renderRow, overscan = 12 }) {
    this.rowHeight = rowHeight;
    this.renderRow = renderRow;
    this.overscan = overscan;
    this.count = 0;
    this.spacer = h("div", { class: "spacer" });
    this.el = h("div", { class: "vlist", tabindex: 0 }, this.spacer);
    this.rows = new Map();
    this.frame = 0;
    this.el.addEventListener("scroll", () => this.schedule());
  }

  setCount(count, { keepOffset = 0 } = {}) {
    this.count = count;
    this.spacer.style.height = `${count * this.rowHeight}px`;
    // New rows arrived above the viewport: keep what the reader looks at where it is.
    if (keepOffset && this.el.scrollTop > 0) this.el.scrollTop += keepOffset * this.rowHeight;
    this.invalidate();
  }

  invalidate() {
    for (const node of this.rows.values()) node.remove();
    this.rows.clear();
    this.schedule();
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  render() {
    this.frame = 0;
    const top = this.el.scrollTop;
    const height = this.el.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / this.rowHeight) - this.overscan);
    const last = Math.min(this.count, Math.ceil((top + height) / this.rowHeight) + this.overscan);
    for (const [index, node] of this.rows) {
      if (index < first || index >= last) {
        node.remove();
        this.rows.delete(index);
      }
    }
    for (let index = first; index < last; index += 1) {
      if (this.rows.has(index)) continue;
      const node = this.renderRow(index);
      node.style.top = `${index * this.rowHeight}px`;
      this.rows.set(index, node);
      this.el.append(node);
    }
  }
}
