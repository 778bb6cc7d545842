// The runtime's publish-topic rules (Mosquitto's): no wildcards, control characters or non-characters, 200 levels,
// 65,535 bytes of UTF-8. Empty passes: the field is optional wherever this is used.
function publishTopicOk(v) {
  if (!v) return true;
  if (/[+#]/.test(v) || v.split('/').length > 200) return false;
  let bytes = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.codePointAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return false; // a lone surrogate is not UTF-8
    if (c > 0xffff) i++;
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f) || (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) === 0xfffe) return false;
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return bytes <= 65535;
}
