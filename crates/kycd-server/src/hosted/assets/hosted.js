// kycd hosted flow: progressive enhancement only. Every form works without it.
(function () {
  "use strict";
  var MAX_SIDE = 2000;
  // Focus the first field in error (the server marks it), else the summary alert.
  var bad = document.querySelector("[aria-invalid=true]");
  if (bad) { bad.focus(); }
  // Shrink large photos before upload: smaller, faster, same checks server-side.
  function downscale(input) {
    var file = input.files && input.files[0];
    if (!file || !/^image\/(jpeg|png)$/.test(file.type) || !window.createImageBitmap || !window.DataTransfer) { return; }
    createImageBitmap(file).then(function (bmp) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bmp.width, bmp.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(bmp.width * scale);
      canvas.height = Math.round(bmp.height * scale);
      canvas.getContext("2d").drawImage(bmp, 0, 0, canvas.width, canvas.height);
      if (scale === 1 && file.size < 1500000) { preview(input, file); return; }
      canvas.toBlob(function (blob) {
        if (!blob || blob.size >= file.size) { preview(input, file); return; }
        var dt = new DataTransfer();
        dt.items.add(new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", { type: "image/jpeg" }));
        input.files = dt.files;
        preview(input, input.files[0]);
      }, "image/jpeg", 0.9);
    }).catch(function () {});
  }
  function preview(input, file) {
    var img = input.parentNode.querySelector("img.preview");
    if (!img) { img = document.createElement("img"); img.className = "preview"; img.alt = ""; input.parentNode.appendChild(img); }
    img.src = URL.createObjectURL(file);
  }
  Array.prototype.forEach.call(document.querySelectorAll("input[type=file]"), function (input) {
    input.addEventListener("change", function () {
      var max = Number(input.getAttribute("data-max-bytes") || 0);
      var msg = input.parentNode.querySelector(".js-msg");
      if (msg) { msg.textContent = ""; }
      if (max && input.files[0] && input.files[0].size > max * 4 && msg) {
        msg.textContent = input.getAttribute("data-too-big") || "";
      }
      downscale(input);
    });
  });
  // The document back side is asked only for types that have one.
  var type = document.getElementById("doc_type");
  var back = document.getElementById("back-field");
  if (type && back) {
    var sync = function () {
      var opt = type.options[type.selectedIndex];
      back.hidden = opt && opt.getAttribute("data-back") !== "true";
    };
    type.addEventListener("change", sync);
    sync();
  }
})();
