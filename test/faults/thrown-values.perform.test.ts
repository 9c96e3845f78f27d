import { thrownValueCatalogue } from './support/thrown-values.js';

thrownValueCatalogue('perform');
