// js_on_load of the upload status. Gradio is not given the supported types (file_types): it would
// drop another type in the browser with a toast that fades, before the server hears of it. Instead
// the picker is offered them here (its `accept`), and a file of another type (picked with "All
// files", or dropped) reaches the server, whose refusal and reason stay in this status area.
const accept = __ACCEPT__;
const offer = () => {
  const button = document.getElementById('add-documents');
  let input = button && button.previousElementSibling;
  while (input && !input.matches('input[type=file]')) input = input.previousElementSibling;
  if (input) input.setAttribute('accept', accept);
};
offer();
document.addEventListener('click', (e) => { if (e.target.closest('#add-documents')) offer(); }, true);
