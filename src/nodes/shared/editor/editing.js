// While a dialog is open (oneditprepare sets `_editing`), validators judge by what is selected there, not the saved
// value. Config nodes' fields are `node-config-input-<name>`.
function current(node, name, prefix) {
  const field = $('#' + (prefix || 'node-input-') + name);
  return node._editing && field.length ? field.val() : node[name];
}
// Ends what oneditprepare's `_editing` marker started; on Delete too, since an undo brings the same node back.
function stopEditing() {
  delete this._editing;
}
