// Building DOM without HTML strings. Every text goes through textContent, every attribute
// through setAttribute: the page's CSP requires Trusted Types for HTML sinks and allows no
// policy, so innerHTML and friends would throw. Copy from AEM and names from Okta are data.

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden']);

/**
 * h('button', {class: 'btn', on: {click}}, 'Save') -> HTMLButtonElement
 * attrs: plain attributes (null/false = absent, true = present), `on` = event listeners,
 * `dataset`, and the properties value/checked/disabled/selected/hidden.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'on') {
      for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (PROPS.has(name)) {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replaceChildren(el, ...children) {
  clear(el);
  return append(el, children);
}

let idCounter = 0;
export function uid(prefix = 'id') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// One polite live region for status messages ("Saved", "Approved ...").
export function announce(message) {
  const region = document.getElementById('live-region');
  if (!region) return;
  region.textContent = '';
  // A separate task so screen readers notice a repeated identical message.
  setTimeout(() => { region.textContent = message; }, 50);
}
