// Beside the decision form: the chosen type's guidance opens and the others close, at once, with no
// request (the panel already holds every type). Without JavaScript every type can still be opened.
document.addEventListener("change", (event) => {
  if (event.target.id !== "id_decision_type") return;
  for (const details of document.querySelectorAll("#guidance details.guidance-type")) {
    details.open = details.dataset.type === event.target.value;
  }
});
