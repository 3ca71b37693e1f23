;;; cspec-mode.el --- Major mode for ContractSpec (.cspec) files, with eglot  -*- lexical-binding: t -*-

;; Put this file on `load-path' and add (require 'cspec-mode) to your init file.
;; Highlighting, completion, diagnostics and the rest come from `cspec lsp' through eglot
;; (built into Emacs 29; `M-x package-install RET eglot' or Debian's elpa-eglot on 28).

;;; Code:

(require 'eglot)

(defvar cspec-mode-syntax-table
  (let ((table (make-syntax-table)))
    (modify-syntax-entry ?/ ". 12" table)
    (modify-syntax-entry ?\n ">" table)
    (modify-syntax-entry ?_ "_" table)
    (modify-syntax-entry ?\" "\"" table)
    table)
  "Syntax table of `cspec-mode': `//' comments, strings in double quotes.")

;;;###autoload
(define-derived-mode cspec-mode prog-mode "cspec"
  "Major mode for ContractSpec specs; the language server does the rest."
  (setq-local comment-start "// ")
  (setq-local comment-end "")
  (setq-local indent-tabs-mode nil)
  (setq-local tab-width 2))

;;;###autoload
(add-to-list 'auto-mode-alist '("\\.cspec\\'" . cspec-mode))
(add-to-list 'eglot-server-programs '(cspec-mode . ("cspec" "lsp")))
(add-hook 'cspec-mode-hook #'eglot-ensure)

(provide 'cspec-mode)
;;; cspec-mode.el ends here
