import type { Dom, DomElement, DomEvent } from '../../../src/webview/render';

/** A tiny DOM for the render functions: elements, text nodes, listeners, and serialisation as a browser does it. */
export class FakeText {
  constructor(readonly text: string) {}
}

export class FakeElement implements DomElement {
  readonly attrs = new Map<string, string>();
  readonly children: Array<FakeElement | FakeText> = [];
  constructor(
    readonly tag: string,
    readonly ns?: string,
  ) {}
  append(...nodes: Array<DomElement | object>): void {
    for (const n of nodes) {
      if (!(n instanceof FakeElement || n instanceof FakeText)) throw new Error('only FakeElement and FakeText can be appended');
      this.children.push(n);
    }
  }
  setAttribute(name: string, value: string): void {
    this.attrs.set(name, value);
  }
  readonly listeners = new Map<string, Array<(event: DomEvent) => void>>();
  addEventListener(type: string, listener: (event: DomEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  click(): void {
    this.fire('click');
  }
  /** Dispatches an event to this element's listeners; returns whether one called preventDefault. */
  fire(type: string, init: { key?: string } = {}): boolean {
    let prevented = false;
    for (const l of this.listeners.get(type) ?? []) l({ ...init, preventDefault: () => (prevented = true) });
    return prevented;
  }
  get textContent(): string {
    return this.children.map((c) => (c instanceof FakeText ? c.text : c.textContent)).join('');
  }
  /** Every element below (and including) this one. */
  all(): FakeElement[] {
    return [this, ...this.children.flatMap((c) => (c instanceof FakeElement ? c.all() : []))];
  }
  find(pred: (e: FakeElement) => boolean): FakeElement[] {
    return this.all().filter(pred);
  }
  /** The markup a browser's outerHTML would give: text and attribute values escaped. */
  get outerHTML(): string {
    const attrs = [...this.attrs].map(([k, v]) => ` ${k}="${v.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}"`).join('');
    const inner = this.children.map((c) => (c instanceof FakeText ? c.text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;') : c.outerHTML)).join('');
    return `<${this.tag}${attrs}>${inner}</${this.tag}>`;
  }
}

export const fakeDom: Dom = {
  createElement: (tag) => new FakeElement(tag),
  createElementNS: (ns, tag) => new FakeElement(tag, ns),
  createTextNode: (text) => new FakeText(text),
};

export function root(nodes: DomElement[]): FakeElement {
  const r = new FakeElement('main');
  r.append(...nodes);
  return r;
}
