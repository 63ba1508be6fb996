DROP TABLE second_factor_required;
