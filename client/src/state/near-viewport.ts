// Which cells are near the viewport. Only those keep a live CodeMirror editor: every live editor listens to the
// document's selectionchange, watches its own visibility and re-measures after each remote edit, so 300 live editors
// cost every keystroke in the notebook several milliseconds. A cell far away shows its text as a plain block instead.

export interface NearViewport {
  /** Calls `onChange` with true or false as `el` comes within (or leaves) the margin around the viewport. */
  watch(el: Element, onChange: (near: boolean) => void): () => void;
  /** Whether `el` is near the viewport now (one layout read), for the first render before any callback. */
  isNear(el: Element): boolean;
}

/** `marginScreens`: how many viewport heights above and below still count as near (scrolling stays seamless). */
export function createNearViewport(marginScreens = 2): NearViewport {
  if (typeof IntersectionObserver === 'undefined') {
    // No observer (tests in jsdom): everything is near, as before parking existed.
    return {
      watch(_el, onChange) {
        onChange(true);
        return () => {};
      },
      isNear: () => true,
    };
  }
  const listeners = new Map<Element, (near: boolean) => void>();
  const observer = new IntersectionObserver(
    (entries) => {
      for (const e of entries) listeners.get(e.target)?.(e.isIntersecting);
    },
    { rootMargin: `${marginScreens * 100}% 0px` },
  );
  return {
    watch(el, onChange) {
      listeners.set(el, onChange);
      observer.observe(el);
      return () => {
        observer.unobserve(el);
        listeners.delete(el);
      };
    },
    isNear(el) {
      const r = el.getBoundingClientRect();
      const h = window.innerHeight;
      return r.bottom >= -marginScreens * h && r.top <= h + marginScreens * h;
    },
  };
}
