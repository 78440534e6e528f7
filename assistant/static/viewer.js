// js_on_load of the document viewer: scroll the cited span into view whenever it changes.
const reveal = (tries = 40) => {
  const box = element.querySelector('.doc-text');
  const mark = element.querySelector('mark.cited');
  if (!box) return;
  if (!box.clientHeight) {  // the Document tab is still being shown; try again shortly
    if (tries > 0) setTimeout(() => reveal(tries - 1), 50);
    return;
  }
  box.scrollTop = mark ? Math.max(0, mark.offsetTop - box.clientHeight / 4) : 0;
  const r = element.getBoundingClientRect();
  if (r.top < 0 || r.top > window.innerHeight - 80) element.scrollIntoView({block: 'start'});
};
watch('value', () => reveal());
reveal();
