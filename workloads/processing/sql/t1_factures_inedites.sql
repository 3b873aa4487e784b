-- The batch's known invoices that the warehouse has never seen: written with a plain COPY.
SELECT * FROM factures_nouvelles
WHERE facture_id NOT IN (SELECT facture_id FROM factures_anciennes)
