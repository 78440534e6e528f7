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
  // A PDF page drawn above the text: bring the first box of the cited span into its view too.
  const page = element.querySelector('.pdf-scroll');
  const drawn = element.querySelector('.pdf-box');
  const image = element.querySelector('.pdf-page img');
  if (image && !image.complete) image.addEventListener('load', () => reveal(), {once: true});
  if (page && drawn) page.scrollTop = Math.max(0, drawn.offsetTop - page.clientHeight / 4);
  const r = element.getBoundingClientRect();
  if (r.top < 0 || r.top > window.innerHeight - 80) element.scrollIntoView({block: 'start'});
};
watch('value', () => reveal());
reveal();
