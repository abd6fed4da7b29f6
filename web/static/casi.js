// Case pages: "Aggiungi una riga" for lists of records (objectives, commitments, visits). Without
// JavaScript the forms still offer a few blank rows (blank rows are not recorded) and the button stays hidden.
(function () {
  // With the button there, the blank optional rows offered for a page without JavaScript are dropped (a shorter
  // form); the next row added takes the first free number.
  function show(root) {
    root.querySelectorAll('[data-aggiungi-riga]').forEach(function (b) { b.hidden = false; });
    root.querySelectorAll('[data-righe]').forEach(function (rows) {
      rows.querySelectorAll(':scope > [data-riga-vuota]').forEach(function (row) { row.remove(); });
      rows.setAttribute('data-prossima', String(rows.children.length));
    });
  }
  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('[data-aggiungi-riga]');
    if (!button) { return; }
    var id = button.getAttribute('data-aggiungi-riga');
    var form = button.closest('form') || document;
    var rows = form.querySelector('[data-righe="' + id + '"]');
    var model = form.querySelector('template[id="' + id + '-modello"]');
    if (!rows || !model) { return; }
    var n = parseInt(rows.getAttribute('data-prossima') || '0', 10);
    var html = model.innerHTML.split('__N__').join(String(n)).split('__I__').join(String(n + 1));
    rows.insertAdjacentHTML('beforeend', html);
    rows.setAttribute('data-prossima', String(n + 1));
    var first = rows.lastElementChild && rows.lastElementChild.querySelector('input, select, textarea');
    if (first) { first.focus(); }
  });
  // A link to /casi/{id}#azione-{transition} opens that action's form.
  function openFromHash() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (target && target.tagName === 'DETAILS') { target.open = true; target.scrollIntoView(); }
  }
  window.addEventListener('hashchange', openFromHash);
  openFromHash();
  // The new-referral form: choosing the comune refills the choices that depend on it (the assignee among its
  // sub-ambito's social workers, the providers serving it), keeping a choice that is still offered.
  document.addEventListener('change', function (event) {
    var select = event.target;
    if (!select.matches || !select.matches('form[data-testid="nuova-segnalazione"] select[name="comune_istat"]')) { return; }
    var form = select.form;
    var tipo = form.querySelector('[name="tipo"]');
    var url = '/casi/nuovo/scelte?tipo=' + encodeURIComponent(tipo ? tipo.value : '') +
      '&comune_istat=' + encodeURIComponent(select.value);
    form.setAttribute('aria-busy', 'true');
    fetch(url, { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (choices) {
        Object.keys(choices).forEach(function (id) {
          var target = form.querySelector('select[id="' + id + '"]');
          if (!target) { return; }
          var kept = target.value;
          while (target.options.length > 1) { target.remove(1); }
          choices[id].forEach(function (pair) {
            target.add(new Option(pair[1], pair[0], false, pair[0] === kept));
          });
        });
      })
      .finally(function () { form.removeAttribute('aria-busy'); });
  });
  show(document);
  document.body.addEventListener('htmx:afterSettle', function (event) { show(event.target); });
})();
