import { h } from "../lib/dom.js";

export function mount(el) {
  el.append(h("h1", {}, "routines"), h("p", { class: "empty" }, "coming in the next commit"));
  return () => {};
}
