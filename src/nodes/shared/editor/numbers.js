function optionalInt(min, max) {
  return function (v) {
    return v === '' || v === undefined || (/^\d+$/.test(String(v)) && Number(v) >= min && Number(v) <= max);
  };
}
function optionalNumber(min, max) {
  return function (v) {
    return v === '' || v === undefined || (!isNaN(Number(v)) && Number(v) >= min && Number(v) <= max);
  };
}
