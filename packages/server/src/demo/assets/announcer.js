// Tells screen readers what happens, without flooding them: progress only at every
// quarter of a file, and every state change (started, paused, done, failed).

export class Announcer {
  /** @param {HTMLElement} region an aria-live="polite" element */
  constructor(region) {
    this.region = region;
    /** @type {WeakMap<object, number>} */
    this.lastQuarter = new WeakMap();
  }
  /** @param {string} text */
  say(text) {
    // Replacing the text makes the live region speak it again even when it repeats.
    this.region.textContent = '';
    setTimeout(() => {
      this.region.textContent = text;
    }, 50);
  }
  /** @param {object} key one upload @param {string} name @param {number} pct 0..100 */
  progress(key, name, pct) {
    const quarter = Math.floor(pct / 25);
    if (quarter === 0 || quarter >= 4 || quarter === this.lastQuarter.get(key)) return;
    this.lastQuarter.set(key, quarter);
    this.say(`${name}: ${quarter * 25}% uploaded`);
  }
}
