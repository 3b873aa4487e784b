-- The batch's known invoices that replace a stored version: upserted through the staging table.
SELECT * FROM factures_nouvelles
WHERE facture_id IN (SELECT facture_id FROM factures_anciennes)
