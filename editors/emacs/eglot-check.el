;;; eglot-check.el --- Emacs (28+, eglot) in batch mode as a `cspec lsp' client  -*- lexical-binding: t -*-

;; For tests/lsp/test_editors.py:
;;
;;   CSPEC_CMD=... CSPEC_ROOT=... CSPEC_FILE=... CSPEC_OUT=... CSPEC_POSITIONS=... \
;;     timeout 120 emacs --batch -q -l editors/emacs/eglot-check.el
;;
;; Opens CSPEC_FILE under eglot, waits for flymake to show the server's diagnostics, asks
;; for hover, completion and definition at the positions of CSPEC_POSITIONS (JSON, 0-based
;; line and character) and writes what it got to CSPEC_OUT as JSON, then exits.

;;; Code:

(package-initialize)
(require 'eglot)
(require 'flymake)
(require 'json)

(define-derived-mode cspec-mode prog-mode "cspec"
  "A minimal major mode for .cspec files (the real one ships with the editor set-up).")

(defvar cspec-check-results (list (cons 'errors [])))

(defun cspec-check--env-json (name)
  (json-parse-string (getenv name) :object-type 'alist :array-type 'list))

(defun cspec-check--wait (predicate seconds)
  "Process events until PREDICATE is true or SECONDS have passed."
  (let ((deadline (+ (float-time) seconds)))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.05))))

(defun cspec-check--request (method line character)
  (jsonrpc-request (eglot--current-server-or-lose) method
                   (list :textDocument (eglot--TextDocumentIdentifier)
                         :position (list :line line :character character))))

(defun cspec-check--position (key)
  (alist-get key (cspec-check--env-json "CSPEC_POSITIONS")))

(defun cspec-check--run ()
  (let* ((command (cspec-check--env-json "CSPEC_CMD"))
         (default-directory (file-name-as-directory (getenv "CSPEC_ROOT"))))
    (setq eglot-server-programs (list (cons 'cspec-mode command)))
    (find-file (getenv "CSPEC_FILE"))
    (cspec-mode)
    (flymake-mode 1)
    (apply #'eglot (eglot--guess-contact))
    (cspec-check--wait (lambda () (eglot-current-server)) 60)
    (cspec-check--wait (lambda () (flymake-diagnostics)) 60)
    (push (cons 'diagnostics
                (or (mapcar (lambda (d)
                              (let ((pos (flymake-diagnostic-beg d)))
                                (list (cons 'code (let ((text (flymake-diagnostic-text d)))
                                                    (and (string-match "\\(CS[0-9]+\\)" text)
                                                         (match-string 1 text))))
                                      (cons 'message (flymake-diagnostic-text d))
                                      (cons 'line (1- (line-number-at-pos pos)))
                                      (cons 'col (save-excursion (goto-char pos)
                                                                 (current-column))))))
                            (flymake-diagnostics))
                    []))
          cspec-check-results)
    (let* ((at (cspec-check--position 'hover))
           (hover (cspec-check--request :textDocument/hover (nth 0 at) (nth 1 at))))
      (push (cons 'hover (plist-get (plist-get hover :contents) :value)) cspec-check-results))
    (let* ((at (cspec-check--position 'completion))
           (reply (cspec-check--request :textDocument/completion (nth 0 at) (nth 1 at)))
           (items (if (plist-member reply :items) (plist-get reply :items) reply)))
      (push (cons 'completion (or (mapcar (lambda (i) (plist-get i :label)) items) []))
            cspec-check-results))
    (let* ((at (cspec-check--position 'definition))
           (reply (cspec-check--request :textDocument/definition (nth 0 at) (nth 1 at))))
      (push (cons 'definition
                  (or (mapcar (lambda (loc)
                                (list (cons 'uri (plist-get loc :uri))
                                      (cons 'line (plist-get (plist-get (plist-get loc :range)
                                                                        :start)
                                                             :line))))
                              reply)
                      []))
            cspec-check-results))))

(condition-case err
    (cspec-check--run)
  (error (setf (alist-get 'errors cspec-check-results)
               (vector (error-message-string err)))))

(with-temp-file (getenv "CSPEC_OUT")
  (insert (json-encode cspec-check-results)))
(ignore-errors (eglot-shutdown (eglot-current-server)))
(kill-emacs 0)

;;; eglot-check.el ends here
