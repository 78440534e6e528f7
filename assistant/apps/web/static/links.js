// js_on_load of the chat, examples and sources (gr.HTML gives `element`, `trigger`, `watch`).
// Links keep a real href so a person can open, copy or bookmark them; a plain click stays in the page.
const plain = (e) => e.button === 0 && !(e.ctrlKey || e.metaKey || e.shiftKey || e.altKey);
element.addEventListener('click', (e) => {
  const link = e.target.closest('a.cite, a.open-source');
  if (link && plain(e)) {
    e.preventDefault();
    const q = new URL(link.href).searchParams;
    history.replaceState(null, '', link.getAttribute('href'));
    trigger('click', {source: q.get('source') || '', start: q.get('start') || '', end: q.get('end') || ''});
    return;
  }
  const remove = e.target.closest('button.remove-source');
  if (remove) { trigger('click', {remove: remove.dataset.source}); return; }
  const example = e.target.closest('button.example');
  if (example) trigger('click', {question: example.textContent});
});
// After a reply, show the latest question at the top of the chat, so the answer is in view.
watch('value', () => {
  const box = element.parentElement;
  const last = [...element.querySelectorAll('.msg.user')].pop();
  if (last && box) box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
});
