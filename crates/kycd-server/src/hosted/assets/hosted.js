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
  // Where the browser allows it, a live camera fills the file input (the
  // `capture` attribute stays the baseline; the upload is checked server-side).
  function camera(input) {
    var facing = input.getAttribute("data-camera");
    if (!facing || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.DataTransfer) { return; }
    var open = document.createElement("button");
    open.type = "button";
    open.className = "secondary";
    open.id = input.id + "-camera";
    open.textContent = input.getAttribute("data-camera-open");
    input.parentNode.insertBefore(open, input.nextSibling);
    open.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({ video: { facingMode: facing }, audio: false }).then(function (stream) {
        var video = document.createElement("video");
        video.className = "preview";
        video.setAttribute("playsinline", "");
        video.muted = true;
        video.srcObject = stream;
        video.play();
        var take = document.createElement("button");
        take.type = "button";
        take.id = input.id + "-take";
        take.textContent = input.getAttribute("data-camera-take");
        open.hidden = true;
        open.parentNode.insertBefore(video, open.nextSibling);
        video.parentNode.insertBefore(take, video.nextSibling);
        take.focus();
        take.addEventListener("click", function () {
          var canvas = document.createElement("canvas");
          canvas.width = video.videoWidth || 640;
          canvas.height = video.videoHeight || 480;
          canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
          stream.getTracks().forEach(function (t) { t.stop(); });
          canvas.toBlob(function (blob) {
            var dt = new DataTransfer();
            dt.items.add(new File([blob], input.id + ".jpg", { type: "image/jpeg" }));
            input.files = dt.files;
            video.remove();
            take.remove();
            open.hidden = false;
            preview(input, input.files[0]);
          }, "image/jpeg", 0.9);
        });
      }).catch(function () { open.hidden = true; });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("input[type=file][data-camera]"), camera);
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
